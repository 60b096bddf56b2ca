// "jocor" (Wei et al., CVPR 2020): two networks trained jointly on one loss per sample,
// (1 - lambda)(CE_1 + CE_2) + lambda (KL(p1 || p2) + KL(p2 || p1)); the R(t) share of the batch
// with the smallest joint loss is kept and both networks learn from its mean.
#include <torch/torch.h>

#include "lookalike/noisy/filter.h"

namespace lookalike::noisy {
namespace {
class JoCoRFilter final : public SampleFilter {
 public:
  explicit JoCoRFilter(FilterOptions o) : o_(std::move(o)) {}
  int networks() const override { return 2; }

  torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                           const torch::Tensor&, int epoch, torch::Tensor& kept) override {
    const double lam = o_.jocor_lambda;
    auto lp1 = torch::log_softmax(logits[0], 1), lp2 = torch::log_softmax(logits[1], 1);
    auto ce = detail::per_sample_ce(logits[0], labels) + detail::per_sample_ce(logits[1], labels);
    // KL(p1 || p2) + KL(p2 || p1) per sample: sum_c (p1 - p2)(log p1 - log p2).
    auto kl = ((lp1.exp() - lp2.exp()) * (lp1 - lp2)).sum(1);
    auto loss = (1.0 - lam) * ce + lam * kl;
    kept = detail::smallest(loss, keep_fraction(o_, epoch));
    return detail::masked_mean(loss, kept);
  }

 private:
  FilterOptions o_;
};
}  // namespace

LOOKALIKE_REGISTER(filter_registry(), "jocor",
                   [](const FilterArgs& a) -> std::unique_ptr<SampleFilter> {
                     return std::make_unique<JoCoRFilter>(a.options);
                   })
}  // namespace lookalike::noisy
