// "semi_hard": every triplet whose negative is farther than the positive but within the margin,
// 0 < d_an - d_ap <= miner_margin (Schroff et al. 2015; pytorch-metric-learning's
// TripletMarginMiner with type_of_triplets="semihard").
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/miner.h"

namespace lookalike::metric {
namespace {

class SemiHard final : public Miner {
 public:
  explicit SemiHard(double margin) : margin_(margin) {}
  Tuples mine(const torch::Tensor& x, const torch::Tensor& labels) override {
    torch::NoGradGuard no_grad;
    auto d = detail::distance_matrix(x.detach().to(torch::kFloat));
    auto [a, p, n] = triplets(Tuples{}, labels);
    auto gap = d.index({a, n}) - d.index({a, p});
    auto keep = gap.gt(0).logical_and(gap.le(margin_)).nonzero().squeeze(1);
    return {a.index_select(0, keep), p.index_select(0, keep), n.index_select(0, keep), {}, {}};
  }

 private:
  double margin_;
};

}  // namespace

LOOKALIKE_REGISTER(miner_registry(), "semi_hard",
                   (MinerSpec{[](const MetricOptions& o) -> std::unique_ptr<Miner> {
                                return std::make_unique<SemiHard>(o.miner_margin);
                              },
                              {"miner_margin"}}))

}  // namespace lookalike::metric
