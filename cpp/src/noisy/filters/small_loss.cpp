// "small_loss": one network learns from the R(t) share of each batch with the smallest loss
// (the selection step of Co-teaching without the second network; Han et al., NeurIPS 2018).
#include <torch/torch.h>

#include "lookalike/noisy/filter.h"

namespace lookalike::noisy {
namespace {
class SmallLossFilter final : public SampleFilter {
 public:
  explicit SmallLossFilter(FilterOptions o) : o_(std::move(o)) {}
  torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                           const torch::Tensor&, int epoch, torch::Tensor& kept) override {
    auto loss = detail::per_sample_ce(logits[0], labels);
    kept = detail::smallest(loss, keep_fraction(o_, epoch));
    return detail::masked_mean(loss, kept);
  }

 private:
  FilterOptions o_;
};
}  // namespace

LOOKALIKE_REGISTER(filter_registry(), "small_loss",
                   [](const FilterArgs& a) -> std::unique_ptr<SampleFilter> {
                     return std::make_unique<SmallLossFilter>(a.options);
                   })
}  // namespace lookalike::noisy
