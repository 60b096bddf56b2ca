#include "lookalike/eval/average_precision.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::eval {
void check_scores_targets(const torch::Tensor& scores, const torch::Tensor& targets, int64_t dim,
                          const char* where) {
  LOOKALIKE_CHECK_ARG(scores.defined() && targets.defined() && scores.dim() == dim &&
                          scores.sizes() == targets.sizes() && scores.is_floating_point(),
                      where, ": scores must be float and targets the same shape, ",
                      dim == 1 ? "[N]" : "[N, K]", "; got ",
                      scores.defined() ? scores.sizes() : c10::IntArrayRef{}, " and ",
                      targets.defined() ? targets.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(!torch::isnan(scores).any().item<bool>(), where, ": scores contain NaN");
  LOOKALIKE_CHECK_ARG((targets == 0).logical_or(targets == 1).all().item<bool>(), where,
                      ": targets must be 0 or 1");
}

namespace {

void check_known(const torch::Tensor& known, const torch::Tensor& scores) {
  LOOKALIKE_CHECK_ARG(
      !known.defined() || (known.scalar_type() == torch::kBool && known.sizes() == scores.sizes()),
      "average precision: known must be bool of the scores' shape ", scores.sizes());
}

double ap_checked(const torch::Tensor& scores, const torch::Tensor& targets) {
  const auto y = targets.to(torch::kDouble);
  const double positives = y.sum().item<double>();
  if (positives <= 0) return std::numeric_limits<double>::quiet_NaN();
  const auto sorted = scores.to(torch::kDouble).sort(/*stable=*/true, 0, /*descending=*/true);
  const auto s = std::get<0>(sorted);
  const auto tp = y.index_select(0, std::get<1>(sorted)).cumsum(0);
  const int64_t n = s.size(0);
  // the last position of each run of tied scores is where a threshold ends
  auto last = torch::ones({n}, torch::kBool);
  if (n > 1) last.slice(0, 0, n - 1).copy_(s.slice(0, 0, n - 1) != s.slice(0, 1, n));
  const auto ends = last.nonzero().view({-1});
  const auto tps = tp.index_select(0, ends);
  const auto counts = (ends + 1).to(torch::kDouble);
  const auto precision = tps / counts;
  const auto recall = tps / positives;
  const auto previous = torch::cat({torch::zeros({1}, torch::kDouble), recall.slice(0, 0, -1)});
  return ((recall - previous) * precision).sum().item<double>();
}

}  // namespace

double average_precision(const torch::Tensor& scores, const torch::Tensor& targets) {
  check_scores_targets(scores, targets, 1, "average_precision");
  return ap_checked(scores, targets);
}

torch::Tensor average_precision_per_column(const torch::Tensor& scores,
                                           const torch::Tensor& targets,
                                           const torch::Tensor& known) {
  check_scores_targets(scores, targets, 2, "average_precision_per_column");
  check_known(known, scores);
  const int64_t k = scores.size(1);
  auto out = torch::empty({k}, torch::kFloat);
  for (int64_t j = 0; j < k; ++j) {
    auto s = scores.select(1, j), y = targets.select(1, j);
    if (known.defined()) {
      const auto keep = known.select(1, j);
      s = s.masked_select(keep), y = y.masked_select(keep);
    }
    out[j] = ap_checked(s, y);
  }
  return out;
}

std::map<std::string, double> mean_average_precision(const torch::Tensor& scores,
                                                     const torch::Tensor& targets,
                                                     const torch::Tensor& known) {
  const auto per = average_precision_per_column(scores, targets, known).to(torch::kDouble);
  const auto valid = torch::isfinite(per);
  const int64_t columns = valid.sum().item<int64_t>();
  LOOKALIKE_CHECK_ARG(columns > 0, "mean_average_precision: no column has a positive target");
  return {{"macro", per.index({valid}).mean().item<double>()},
          {"micro", known.defined()
                        ? ap_checked(scores.masked_select(known), targets.masked_select(known))
                        : ap_checked(scores.reshape({-1}), targets.reshape({-1}))},
          {"columns", static_cast<double>(columns)}};
}

}  // namespace lookalike::eval
