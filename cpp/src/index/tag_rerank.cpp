#include "lookalike/index/tag_rerank.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::index {
namespace {

void check(const torch::Tensor& candidates, const torch::Tensor& similarities,
           const torch::Tensor& tag_scores, const torch::Tensor& thresholds,
           const torch::Tensor& wanted, const TagRerankOptions& o) {
  LOOKALIKE_CHECK_ARG(o.mode == "filter" || o.mode == "rerank",
                      "tag_rerank: mode must be 'filter' or 'rerank', got '", o.mode, "'");
  LOOKALIKE_CHECK_ARG(o.k > 0 && std::isfinite(o.weight),
                      "tag_rerank: k must be positive and "
                      "weight finite");
  LOOKALIKE_CHECK_ARG(candidates.dim() == 2 && candidates.scalar_type() == torch::kLong &&
                          similarities.sizes() == candidates.sizes() &&
                          similarities.is_floating_point(),
                      "tag_rerank: candidates must be int64 [Q, C] and similarities float of the "
                      "same shape");
  LOOKALIKE_CHECK_ARG(tag_scores.dim() == 2 && tag_scores.is_floating_point(),
                      "tag_rerank: tag_scores must be float [G, T]");
  LOOKALIKE_CHECK_ARG(thresholds.dim() == 1 && thresholds.size(0) == tag_scores.size(1),
                      "tag_rerank: thresholds must be float [", tag_scores.size(1), "]");
  LOOKALIKE_CHECK_ARG(wanted.dim() == 1 && wanted.size(0) == candidates.size(0) &&
                          wanted.scalar_type() == torch::kLong,
                      "tag_rerank: wanted must be int64 [", candidates.size(0), "]");
  if (wanted.numel())
    LOOKALIKE_CHECK_ARG(
        wanted.min().item<int64_t>() >= 0 && wanted.max().item<int64_t>() < tag_scores.size(1),
        "tag_rerank: wanted tags must lie in [0, ", tag_scores.size(1), ")");
  if (candidates.numel())
    LOOKALIKE_CHECK_ARG(candidates.min().item<int64_t>() >= -1 &&
                            candidates.max().item<int64_t>() < tag_scores.size(0),
                        "tag_rerank: candidates must be gallery rows in [0, ", tag_scores.size(0),
                        ") or -1");
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> tag_rerank(const torch::Tensor& candidates_in,
                                                   const torch::Tensor& similarities_in,
                                                   const torch::Tensor& tag_scores_in,
                                                   const torch::Tensor& thresholds_in,
                                                   const torch::Tensor& wanted_in,
                                                   const TagRerankOptions& o) {
  check(candidates_in, similarities_in, tag_scores_in, thresholds_in, wanted_in, o);
  const auto candidates = candidates_in.contiguous();
  const auto similarities = similarities_in.to(torch::kFloat).contiguous();
  const auto tag_scores = tag_scores_in.to(torch::kFloat).contiguous();
  const auto thresholds = thresholds_in.to(torch::kFloat).contiguous();
  const auto wanted = wanted_in.contiguous();
  const int64_t q = candidates.size(0), c = candidates.size(1);
  auto ids = torch::full({q, o.k}, -1, torch::kLong);
  auto scores = torch::full({q, o.k}, std::numeric_limits<float>::quiet_NaN(), torch::kFloat);
  const auto cand = candidates.accessor<int64_t, 2>();
  const auto sim = similarities.accessor<float, 2>();
  const auto ts = tag_scores.accessor<float, 2>();
  const auto th = thresholds.accessor<float, 1>();
  const auto wa = wanted.accessor<int64_t, 1>();
  auto out_ids = ids.accessor<int64_t, 2>();
  auto out_scores = scores.accessor<float, 2>();
  const bool filter = o.mode == "filter";
  std::vector<std::pair<float, int64_t>> kept;
  for (int64_t r = 0; r < q; ++r) {
    kept.clear();
    const int64_t tag = wa[r];
    for (int64_t j = 0; j < c; ++j) {
      const int64_t g = cand[r][j];
      if (g < 0) continue;
      const float s = ts[g][tag];
      if (filter && s < th[tag]) continue;
      kept.emplace_back(filter ? sim[r][j] : sim[r][j] + static_cast<float>(o.weight) * s, g);
    }
    // stable: equal scores keep the visual order
    std::stable_sort(kept.begin(), kept.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (int64_t j = 0; j < std::min<int64_t>(o.k, static_cast<int64_t>(kept.size())); ++j) {
      out_ids[r][j] = kept[static_cast<size_t>(j)].second;
      out_scores[r][j] = kept[static_cast<size_t>(j)].first;
    }
  }
  return {ids, scores};
}

double tag_share_at_k(const torch::Tensor& ids, const torch::Tensor& targets,
                      const torch::Tensor& wanted) {
  LOOKALIKE_CHECK_ARG(ids.dim() == 2 && ids.scalar_type() == torch::kLong && ids.size(1) > 0,
                      "tag_share_at_k: ids must be int64 [Q, k]");
  LOOKALIKE_CHECK_ARG(targets.dim() == 2, "tag_share_at_k: targets must be [G, T]");
  LOOKALIKE_CHECK_ARG(
      wanted.dim() == 1 && wanted.size(0) == ids.size(0) && wanted.scalar_type() == torch::kLong,
      "tag_share_at_k: wanted must be int64 [", ids.size(0), "]");
  const auto id = ids.contiguous();
  const auto y = targets.to(torch::kFloat).contiguous();
  const auto w = wanted.contiguous();
  const auto ia = id.accessor<int64_t, 2>();
  const auto ya = y.accessor<float, 2>();
  const auto wa = w.accessor<int64_t, 1>();
  double sum = 0;
  int64_t counted = 0;
  for (int64_t r = 0; r < id.size(0); ++r) {
    if (wa[r] < 0) continue;
    LOOKALIKE_CHECK_ARG(wa[r] < y.size(1), "tag_share_at_k: wanted tag ", wa[r], " >= T");
    int64_t hits = 0;
    for (int64_t j = 0; j < id.size(1); ++j) {
      const int64_t g = ia[r][j];
      LOOKALIKE_CHECK_ARG(g < y.size(0), "tag_share_at_k: id ", g, " outside the gallery");
      if (g >= 0 && ya[g][wa[r]] > 0) ++hits;
    }
    sum += static_cast<double>(hits) / static_cast<double>(id.size(1));
    ++counted;
  }
  return counted ? sum / static_cast<double>(counted) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace lookalike::index
