#include "lookalike/eval/prf.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::eval {

Prf prf(double tp, double predicted, double actual, double zero_division) {
  Prf out;
  out.true_positives = static_cast<int64_t>(tp);
  out.predicted = static_cast<int64_t>(predicted);
  out.actual = static_cast<int64_t>(actual);
  out.precision = predicted > 0 ? tp / predicted : zero_division;
  out.recall = actual > 0 ? tp / actual : zero_division;
  const double s = out.precision + out.recall;
  out.f1 = s > 0 ? 2 * out.precision * out.recall / s : 0.0;
  return out;
}

Prf prf(const torch::Tensor& predicted, const torch::Tensor& actual, double zero_division) {
  LOOKALIKE_CHECK_ARG(
      predicted.defined() && actual.defined() && predicted.scalar_type() == torch::kBool &&
          actual.scalar_type() == torch::kBool && predicted.sizes() == actual.sizes(),
      "prf: predicted and actual must be bool masks of one shape, got ", predicted.sizes(), " and ",
      actual.sizes());
  const double tp = predicted.logical_and(actual).sum().item<int64_t>();
  return prf(tp, static_cast<double>(predicted.sum().item<int64_t>()),
             static_cast<double>(actual.sum().item<int64_t>()), zero_division);
}

}  // namespace lookalike::eval
