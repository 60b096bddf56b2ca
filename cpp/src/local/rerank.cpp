#include "lookalike/local/rerank.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::local {

void validate(const RerankOptions& o) {
  LOOKALIKE_CHECK_ARG(o.top_k > 0, "RerankOptions.top_k must be positive, got ", o.top_k);
  LOOKALIKE_CHECK_ARG(o.score == "inliers" || o.score == "fused",
                      "RerankOptions.score must be inliers or fused, got '", o.score, "'");
  LOOKALIKE_CHECK_ARG(o.min_inliers >= 0, "RerankOptions.min_inliers must be >= 0, got ",
                      o.min_inliers);
  LOOKALIKE_CHECK_ARG(o.inlier_cap > 0, "RerankOptions.inlier_cap must be positive, got ",
                      o.inlier_cap);
  validate(o.verify);
}

namespace {

// The order of row q's first `k` columns under the options' score; scores written to `score`.
std::vector<int64_t> order_row(const int64_t* id, const float* global, const int64_t* inl,
                               int64_t k, const RerankOptions& o, float* score) {
  std::vector<int64_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> key(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) {
    const auto s = static_cast<size_t>(j);
    if (id[j] < 0) {
      key[s] = -std::numeric_limits<double>::infinity();
      score[j] = global[j];
    } else if (o.score == "inliers") {
      // verified ones above every unverified one; unverified keep the global order (stable sort)
      key[s] = inl[j] >= std::max<int64_t>(o.min_inliers, 1) ? static_cast<double>(inl[j]) : -1.0;
      score[j] = static_cast<float>(inl[j]);
    } else {
      key[s] = o.global_weight * global[j] +
               o.inlier_weight * std::min<double>(static_cast<double>(inl[j]), o.inlier_cap) /
                   o.inlier_cap;
      score[j] = static_cast<float>(key[s]);
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return key[a] > key[b]; });
  return order;
}

void check_ids(const torch::Tensor& ids, const char* where) {
  LOOKALIKE_CHECK_ARG(ids.defined() && ids.dim() == 2 && ids.scalar_type() == torch::kInt64, where,
                      ": ids must be int64 [Q, K]");
}

void check_lists(const torch::Tensor& ids, const torch::Tensor& global_scores, const char* where) {
  check_ids(ids, where);
  LOOKALIKE_CHECK_ARG(global_scores.defined() && global_scores.sizes() == ids.sizes() &&
                          global_scores.scalar_type() == torch::kFloat32,
                      where, ": global_scores must be float32 of the ids' shape ", ids.sizes());
  LOOKALIKE_CHECK_ARG(torch::isfinite(global_scores).all().item<bool>(), where,
                      ": global_scores must be finite (NaN or inf found)");
}
}  // namespace

Verified verify_top_k(const torch::Tensor& ids, const std::vector<LocalFeatures>& queries,
                      const std::vector<LocalFeatures>& candidates, const RerankOptions& options) {
  validate(options);
  check_ids(ids, "verify_top_k");
  const int64_t nq = ids.size(0), k = ids.size(1), top = std::min(k, options.top_k);
  LOOKALIKE_CHECK_ARG(static_cast<int64_t>(queries.size()) == nq, "verify_top_k: ", queries.size(),
                      " query feature sets for ", nq, " rows of ids");
  const auto id = ids.contiguous();
  // The pairs to verify: every real candidate in the first `top` columns.
  std::vector<int64_t> pairs, where;
  const int64_t* idp = id.data_ptr<int64_t>();
  for (int64_t q = 0; q < nq; ++q)
    for (int64_t j = 0; j < top; ++j) {
      const int64_t c = idp[q * k + j];
      if (c < 0) continue;
      LOOKALIKE_CHECK_ARG(c < static_cast<int64_t>(candidates.size()), "verify_top_k: id ", c,
                          " (row ", q, ") is out of range for ", candidates.size(), " candidates");
      pairs.insert(pairs.end(), {q, c});
      where.push_back(q * k + j);
    }
  const auto np = static_cast<int64_t>(where.size());
  auto counts =
      verify_pairs(queries, candidates, torch::from_blob(pairs.data(), {np, 2}, torch::kInt64),
                   options.verify, options.threads);
  Verified out{torch::full({nq, k}, -1, torch::kInt64), torch::full({nq, k}, -1, torch::kInt64)};
  int64_t* inl = out.inliers.data_ptr<int64_t>();
  int64_t* mat = out.matches.data_ptr<int64_t>();
  const auto count = counts.accessor<int64_t, 2>();
  for (int64_t p = 0; p < np; ++p) {
    mat[where[static_cast<size_t>(p)]] = count[p][0];
    inl[where[static_cast<size_t>(p)]] = count[p][1];
  }
  return out;
}

Reranked reorder(const torch::Tensor& ids, const torch::Tensor& global_scores,
                 const Verified& verified, const RerankOptions& options) {
  validate(options);
  check_lists(ids, global_scores, "reorder");
  for (const auto* t : {&verified.inliers, &verified.matches})
    LOOKALIKE_CHECK_ARG(
        t->defined() && t->sizes() == ids.sizes() && t->scalar_type() == torch::kInt64,
        "reorder: inliers and matches must be int64 of the ids' shape ", ids.sizes());
  const int64_t nq = ids.size(0), k = ids.size(1), top = std::min(k, options.top_k);
  auto g = global_scores.contiguous();
  Reranked out{ids.contiguous().clone(), g.clone(), verified.inliers.contiguous().clone(),
               verified.matches.contiguous().clone()};
  const int64_t* idp = out.ids.data_ptr<int64_t>();
  const int64_t* inl = out.inliers.data_ptr<int64_t>();
  std::vector<float> score(static_cast<size_t>(top));
  for (int64_t q = 0; q < nq; ++q) {
    const auto order = order_row(idp + q * k, g.data_ptr<float>() + q * k, inl + q * k, top,
                                 options, score.data());
    auto perm = torch::tensor(order, torch::kInt64);
    auto scores = torch::from_blob(score.data(), {top}, torch::kFloat32);
    for (auto* t : {&out.ids, &out.inliers, &out.matches}) {
      auto row = (*t)[q].slice(0, 0, top);
      row.copy_(row.index_select(0, perm));
    }
    out.scores[q].slice(0, 0, top).copy_(scores.index_select(0, perm));
  }
  return out;
}

Reranked rerank(const torch::Tensor& ids, const torch::Tensor& global_scores,
                const std::vector<LocalFeatures>& queries,
                const std::vector<LocalFeatures>& candidates, const RerankOptions& options) {
  check_lists(ids, global_scores, "rerank");
  return reorder(ids, global_scores, verify_top_k(ids, queries, candidates, options), options);
}

}  // namespace lookalike::local
