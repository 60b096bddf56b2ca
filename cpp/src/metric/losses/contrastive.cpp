// "contrastive": relu(d - pos_margin) over positive pairs plus relu(neg_margin - d) over
// negative pairs, each averaged over its non-zero terms (pytorch-metric-learning's
// ContrastiveLoss with LpDistance on normalised embeddings).
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/loss.h"

namespace lookalike::metric {
namespace {

class Contrastive final : public MetricLoss {
 public:
  explicit Contrastive(const MetricOptions& o)
      : pos_margin_(o.pos_margin), neg_margin_(o.neg_margin) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels,
                        const Tuples& mined) override {
    auto [pos, neg] = pair_masks(mined, labels);
    auto p = pos.nonzero(), n = neg.nonzero();
    auto d_pos = detail::pair_distances(x, p.select(1, 0), p.select(1, 1));
    auto d_neg = detail::pair_distances(x, n.select(1, 0), n.select(1, 1));
    return detail::mean_nonzero(torch::relu(d_pos - pos_margin_)) +
           detail::mean_nonzero(torch::relu(neg_margin_ - d_neg));
  }

 private:
  double pos_margin_, neg_margin_;
};

}  // namespace

LOOKALIKE_REGISTER(loss_registry(), "contrastive",
                   (LossSpec{
                       [](const MetricOptions& o, int64_t, int64_t) -> std::shared_ptr<MetricLoss> {
                         return std::make_shared<Contrastive>(o);
                       },
                       {"pos_margin", "neg_margin"},
                       true}))

}  // namespace lookalike::metric
