// "coteaching" (Han et al., NeurIPS 2018): two networks; each learns from the R(t) share of the
// batch that the *other* finds smallest-loss. "coteaching_plus" (Yu et al., ICML 2019): from
// init_epoch on, only the samples on which the two networks disagree take part, then the same
// cross small-loss update.
#include <torch/torch.h>

#include "lookalike/noisy/filter.h"

namespace lookalike::noisy {
namespace {
class CoTeachingFilter final : public SampleFilter {
 public:
  CoTeachingFilter(FilterOptions o, bool plus) : o_(std::move(o)), plus_(plus) {}
  int networks() const override { return 2; }

  torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                           const torch::Tensor&, int epoch, torch::Tensor& kept) override {
    auto l1 = detail::per_sample_ce(logits[0], labels);
    auto l2 = detail::per_sample_ce(logits[1], labels);
    const double keep = keep_fraction(o_, epoch);
    if (plus_ && epoch >= o_.coteaching_plus_init_epoch) {
      auto disagree = logits[0].argmax(1).ne(logits[1].argmax(1));
      const int64_t nd = disagree.sum().item<int64_t>();
      kept = torch::zeros_like(disagree);
      if (nd == 0) return (l1.sum() + l2.sum()) * 0.0;  // nothing to learn from in this batch
      auto idx = disagree.nonzero().view(-1);
      auto s1 = l1.index_select(0, idx), s2 = l2.index_select(0, idx);
      auto pick1 = detail::smallest(s1, keep), pick2 = detail::smallest(s2, keep);
      kept.index_put_({idx}, pick2);
      return detail::masked_mean(s1, pick2) + detail::masked_mean(s2, pick1);
    }
    auto pick1 = detail::smallest(l1, keep);  // network 1's clean guess, taught to network 2
    auto pick2 = detail::smallest(l2, keep);
    kept = pick2;  // what network 1 learns from
    return detail::masked_mean(l1, pick2) + detail::masked_mean(l2, pick1);
  }

 private:
  FilterOptions o_;
  bool plus_;
};
}  // namespace

LOOKALIKE_REGISTER(filter_registry(), "coteaching",
                   [](const FilterArgs& a) -> std::unique_ptr<SampleFilter> {
                     return std::make_unique<CoTeachingFilter>(a.options, false);
                   })
LOOKALIKE_REGISTER(filter_registry(), "coteaching_plus",
                   [](const FilterArgs& a) -> std::unique_ptr<SampleFilter> {
                     return std::make_unique<CoTeachingFilter>(a.options, true);
                   })
}  // namespace lookalike::noisy
