#include "lookalike/eval/thresholds.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/eval/average_precision.h"

namespace lookalike::eval {
namespace {

struct Choice {
  float threshold;
  double f1, precision, recall;
  bool fallback;
};

// One column: scores float [N] and 0/1 targets [N].
Choice choose(const torch::Tensor& scores, const torch::Tensor& targets,
              const ThresholdOptions& o) {
  const auto y = targets.to(torch::kDouble);
  const double positives = y.sum().item<double>();
  if (positives <= 0) return {static_cast<float>(o.fallback), 0, 0, 0, true};
  const auto sorted = scores.to(torch::kFloat).sort(/*stable=*/true, 0, /*descending=*/true);
  const auto s = std::get<0>(sorted).contiguous();
  const auto tp = y.index_select(0, std::get<1>(sorted)).cumsum(0);
  const int64_t n = s.size(0);
  auto last = torch::ones({n}, torch::kBool);  // the end of each run of tied scores
  if (n > 1) last.slice(0, 0, n - 1).copy_(s.slice(0, 0, n - 1) != s.slice(0, 1, n));
  const auto ends = last.nonzero().view({-1});
  const auto tps = tp.index_select(0, ends);
  const auto predicted = (ends + 1).to(torch::kDouble);
  const auto precision = tps / predicted, recall = tps / positives;
  const auto f1 = 2 * tps / (predicted + positives);
  int64_t pick = -1;
  if (o.rule == "f1") {
    pick = f1.argmax().item<int64_t>();  // the first maximum: the highest threshold
  } else {
    const auto reach = (precision >= o.precision - 1e-12).nonzero().view({-1});
    if (reach.size(0) > 0) pick = reach[-1].item<int64_t>();  // the lowest threshold
  }
  const auto sa = s.accessor<float, 1>();
  if (pick < 0)  // precision never reached: above every score
    return {std::nextafter(sa[0], std::numeric_limits<float>::infinity()), 0, 0, 0, true};
  const int64_t at = ends[pick].item<int64_t>();
  float threshold = sa[at];
  if (at + 1 < n) {
    const auto middle = static_cast<float>(0.5 * (double(sa[at]) + double(sa[at + 1])));
    if (middle > sa[at + 1]) threshold = middle;  // adjacent floats: keep the score itself
  }
  return {threshold, f1[pick].item<double>(), precision[pick].item<double>(),
          recall[pick].item<double>(), false};
}

}  // namespace

void validate(const ThresholdOptions& o) {
  LOOKALIKE_CHECK_ARG(o.rule == "f1" || o.rule == "precision",
                      "thresholds.rule must be 'f1' or 'precision', got '", o.rule, "'");
  LOOKALIKE_CHECK_ARG(o.precision > 0 && o.precision <= 1,
                      "thresholds.precision must be in (0, 1], got ", o.precision);
  LOOKALIKE_CHECK_ARG(std::isfinite(o.fallback), "thresholds.fallback must be finite");
}

Thresholds choose_thresholds(const torch::Tensor& scores, const torch::Tensor& targets,
                             const ThresholdOptions& o) {
  validate(o);
  check_scores_targets(scores, targets, 2, "choose_thresholds");
  LOOKALIKE_CHECK_ARG(scores.size(0) > 0, "choose_thresholds: no photo");
  const int64_t k = scores.size(1);
  Thresholds out{torch::empty({k}, torch::kFloat), torch::empty({k}, torch::kFloat),
                 torch::empty({k}, torch::kFloat), torch::empty({k}, torch::kFloat),
                 torch::empty({k}, torch::kBool)};
  for (int64_t j = 0; j < k; ++j) {
    const auto c = choose(scores.select(1, j), targets.select(1, j), o);
    out.threshold[j] = c.threshold;
    out.f1[j] = c.f1;
    out.precision[j] = c.precision;
    out.recall[j] = c.recall;
    out.fallback[j] = c.fallback;
  }
  return out;
}

}  // namespace lookalike::eval
