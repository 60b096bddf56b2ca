#include "lookalike/eval/accuracy.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::eval {

double accuracy(const torch::Tensor& scores, const torch::Tensor& labels) {
  LOOKALIKE_CHECK_ARG(scores.defined() && scores.dim() == 2 && scores.is_floating_point(),
                      "accuracy: scores must be float [n, C]");
  LOOKALIKE_CHECK_ARG(labels.defined() && labels.dim() == 1 &&
                          labels.scalar_type() == torch::kLong && labels.size(0) == scores.size(0),
                      "accuracy: labels must be int64 [", scores.size(0), "]");
  LOOKALIKE_CHECK_ARG(scores.size(0) > 0, "accuracy: no rows");
  LOOKALIKE_CHECK_ARG(
      labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < scores.size(1),
      "accuracy: labels must lie in [0, ", scores.size(1), ")");
  return (scores.argmax(1) == labels.to(scores.device())).to(torch::kDouble).mean().item<double>();
}

}  // namespace lookalike::eval
