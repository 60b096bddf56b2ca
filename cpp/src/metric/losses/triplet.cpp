// "triplet": relu(d_ap - d_an + triplet_margin) over the triplets (all of the batch, or the
// miner's), averaged over the non-zero ones (pytorch-metric-learning's TripletMarginLoss).
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/loss.h"

namespace lookalike::metric {
namespace {

class Triplet final : public MetricLoss {
 public:
  explicit Triplet(const MetricOptions& o) : margin_(o.triplet_margin) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels,
                        const Tuples& mined) override {
    auto [a, p, n] = triplets(mined, labels);
    auto d_ap = detail::pair_distances(x, a, p), d_an = detail::pair_distances(x, a, n);
    return detail::mean_nonzero(torch::relu(d_ap - d_an + margin_));
  }

 private:
  double margin_;
};

}  // namespace

LOOKALIKE_REGISTER(loss_registry(), "triplet",
                   (LossSpec{
                       [](const MetricOptions& o, int64_t, int64_t) -> std::shared_ptr<MetricLoss> {
                         return std::make_shared<Triplet>(o);
                       },
                       {"triplet_margin"},
                       true}))

}  // namespace lookalike::metric
