// "none": standard cross-entropy on every sample.
#include <torch/torch.h>

#include "lookalike/noisy/filter.h"

namespace lookalike::noisy {
namespace {
class NoneFilter final : public SampleFilter {
 public:
  torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                           const torch::Tensor&, int, torch::Tensor& kept) override {
    kept = torch::ones({labels.size(0)}, labels.options().dtype(torch::kBool));
    return torch::nn::functional::cross_entropy(logits[0], labels);
  }
};
}  // namespace

LOOKALIKE_REGISTER(filter_registry(), "none",
                   [](const FilterArgs&) -> std::unique_ptr<SampleFilter> {
                     return std::make_unique<NoneFilter>();
                   })
}  // namespace lookalike::noisy
