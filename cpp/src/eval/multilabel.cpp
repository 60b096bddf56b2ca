#include "lookalike/eval/multilabel.h"

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/eval/average_precision.h"

namespace lookalike::eval {
namespace {

void check_predictions(const torch::Tensor& predictions, const torch::Tensor& targets,
                       const char* where) {
  LOOKALIKE_CHECK_ARG(predictions.defined() && targets.defined() && predictions.dim() == 2 &&
                          predictions.sizes() == targets.sizes(),
                      where, ": predictions and targets must both be [N, K]; got ",
                      predictions.defined() ? predictions.sizes() : c10::IntArrayRef{}, " and ",
                      targets.defined() ? targets.sizes() : c10::IntArrayRef{});
  for (const auto* t : {&predictions, &targets})
    LOOKALIKE_CHECK_ARG((*t == 0).logical_or(*t == 1).all().item<bool>(), where, ": ",
                        t == &targets ? "targets" : "predictions", " must be 0 or 1");
}

// TP, FP, FN per column as double [K].
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> counts(const torch::Tensor& predictions,
                                                               const torch::Tensor& targets) {
  const auto p = predictions.to(torch::kDouble), y = targets.to(torch::kDouble);
  const auto tp = (p * y).sum(0);
  return {tp, p.sum(0) - tp, y.sum(0) - tp};
}

torch::Tensor f1_of(const torch::Tensor& tp, const torch::Tensor& fp, const torch::Tensor& fn) {
  const auto denominator = 2 * tp + fp + fn;
  return torch::where(denominator > 0, 2 * tp / denominator.clamp_min(1e-300),
                      torch::zeros_like(tp));
}

}  // namespace

torch::Tensor f1_per_column(const torch::Tensor& predictions, const torch::Tensor& targets) {
  check_predictions(predictions, targets, "f1_per_column");
  const auto [tp, fp, fn] = counts(predictions, targets);
  return f1_of(tp, fp, fn).to(torch::kFloat);
}

std::map<std::string, double> f1_scores(const torch::Tensor& predictions,
                                        const torch::Tensor& targets) {
  check_predictions(predictions, targets, "f1_scores");
  LOOKALIKE_CHECK_ARG(predictions.numel() > 0, "f1_scores: no photo or no column");
  const auto [tp, fp, fn] = counts(predictions, targets);
  const double t = tp.sum().item<double>(), f = fp.sum().item<double>(),
               m = fn.sum().item<double>();
  return {{"macro", f1_of(tp, fp, fn).mean().item<double>()},
          {"micro", 2 * t + f + m > 0 ? 2 * t / (2 * t + f + m) : 0.0},
          {"precision", t + f > 0 ? t / (t + f) : 0.0},
          {"recall", t + m > 0 ? t / (t + m) : 0.0},
          {"predicted_per_photo", (t + f) / static_cast<double>(predictions.size(0))}};
}

double precision_at_k(const torch::Tensor& scores, const torch::Tensor& targets, int64_t k) {
  check_scores_targets(scores, targets, 2, "precision_at_k");
  LOOKALIKE_CHECK_ARG(scores.size(0) > 0, "precision_at_k: no photo");
  LOOKALIKE_CHECK_ARG(k >= 1 && k <= scores.size(1), "precision_at_k: k must be in [1, ",
                      scores.size(1), "], got ", k);
  const auto order = std::get<1>(scores.sort(/*stable=*/true, 1, /*descending=*/true));
  const auto top = targets.to(torch::kDouble).gather(1, order.slice(1, 0, k));
  return top.sum(1).div(static_cast<double>(k)).mean().item<double>();
}

double coverage_error(const torch::Tensor& scores, const torch::Tensor& targets) {
  check_scores_targets(scores, targets, 2, "coverage_error");
  LOOKALIKE_CHECK_ARG(scores.size(0) > 0, "coverage_error: no photo");
  const auto s = scores.to(torch::kDouble);
  const auto y = targets.to(torch::kBool);
  const auto inf = std::numeric_limits<double>::infinity();
  // the lowest score of a true tag per photo; every tag scoring at least that is covered
  const auto lowest = torch::where(y, s, torch::full_like(s, inf)).amin(1, /*keepdim=*/true);
  const auto covered = (s >= lowest).sum(1).to(torch::kDouble);
  return torch::where(y.any(1), covered, torch::zeros_like(covered)).mean().item<double>();
}

torch::Tensor apply_thresholds(const torch::Tensor& scores, const torch::Tensor& thresholds) {
  LOOKALIKE_CHECK_ARG(scores.defined() && scores.dim() == 2 && scores.is_floating_point(),
                      "apply_thresholds: scores must be float [N, K]");
  LOOKALIKE_CHECK_ARG(thresholds.defined() && thresholds.dim() == 1 &&
                          thresholds.size(0) == scores.size(1) && thresholds.is_floating_point(),
                      "apply_thresholds: thresholds must be float [", scores.size(1), "], got ",
                      thresholds.defined() ? thresholds.sizes() : c10::IntArrayRef{});
  return scores.ge(thresholds.to(scores.scalar_type()).unsqueeze(0)).to(torch::kFloat);
}

}  // namespace lookalike::eval
