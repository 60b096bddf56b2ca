// "multi_similarity": Wang et al. 2019 on cosine similarities S, per anchor
//   1/alpha log(1 + sum_p exp(-alpha (S_ap - base))) + 1/beta log(1 + sum_n exp(beta (S_an -
//   base)))
// averaged over the anchors (pytorch-metric-learning's MultiSimilarityLoss).
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/loss.h"

namespace lookalike::metric {
namespace {

class MultiSimilarity final : public MetricLoss {
 public:
  explicit MultiSimilarity(const MetricOptions& o)
      : alpha_(o.ms_alpha), beta_(o.ms_beta), base_(o.ms_base) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels,
                        const Tuples& mined) override {
    auto [pos, neg] = pair_masks(mined, labels);
    auto s = detail::cosine(x, x);
    auto pos_loss = detail::logsumexp_add_one(-alpha_ * (s - base_), pos, 1) / alpha_;
    auto neg_loss = detail::logsumexp_add_one(beta_ * (s - base_), neg, 1) / beta_;
    return (pos_loss + neg_loss).mean();
  }

 private:
  double alpha_, beta_, base_;
};

}  // namespace

LOOKALIKE_REGISTER(loss_registry(), "multi_similarity",
                   (LossSpec{
                       [](const MetricOptions& o, int64_t, int64_t) -> std::shared_ptr<MetricLoss> {
                         return std::make_shared<MultiSimilarity>(o);
                       },
                       {"ms_alpha", "ms_beta", "ms_base"},
                       true}))

}  // namespace lookalike::metric
