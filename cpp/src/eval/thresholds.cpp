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

// The operating points of one column (scores float [N], 0/1 targets [N], a positive among them):
// one per distinct score, highest first; `at` the position of its last photo in score order.
struct Points {
  torch::Tensor scores, at, tp, predicted, precision, recall, f1;
};

Points points_of(const torch::Tensor& scores, const torch::Tensor& targets, double positives) {
  const auto y = targets.to(torch::kDouble);
  const auto sorted = scores.to(torch::kFloat).sort(/*stable=*/true, 0, /*descending=*/true);
  Points p;
  p.scores = std::get<0>(sorted).contiguous();
  const auto tp = y.index_select(0, std::get<1>(sorted)).cumsum(0);
  const int64_t n = p.scores.size(0);
  auto last = torch::ones({n}, torch::kBool);  // the end of each run of tied scores
  if (n > 1) last.slice(0, 0, n - 1).copy_(p.scores.slice(0, 0, n - 1) != p.scores.slice(0, 1, n));
  p.at = last.nonzero().view({-1});
  p.tp = tp.index_select(0, p.at);
  p.predicted = (p.at + 1).to(torch::kDouble);
  p.precision = p.tp / p.predicted;
  p.recall = p.tp / positives;
  p.f1 = 2 * p.tp / (p.predicted + positives);
  return p;
}

// One column: scores float [N] and 0/1 targets [N].
Choice choose(const torch::Tensor& scores, const torch::Tensor& targets,
              const ThresholdOptions& o) {
  const double positives = targets.to(torch::kDouble).sum().item<double>();
  if (positives <= 0) return {static_cast<float>(o.fallback), 0, 0, 0, true};
  const auto pts = points_of(scores, targets, positives);
  const auto& s = pts.scores;
  const auto& ends = pts.at;
  const auto &precision = pts.precision, &recall = pts.recall, &f1 = pts.f1;
  const int64_t n = s.size(0);
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

PrCurve precision_recall_curve(const torch::Tensor& scores, const torch::Tensor& targets) {
  check_scores_targets(scores, targets, 1, "precision_recall_curve");
  const double positives = targets.to(torch::kDouble).sum().item<double>();
  LOOKALIKE_CHECK_ARG(positives > 0, "precision_recall_curve: no positive target");
  const auto p = points_of(scores, targets, positives);
  return {p.precision.to(torch::kFloat), p.recall.to(torch::kFloat),
          p.scores.index_select(0, p.at)};
}

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
