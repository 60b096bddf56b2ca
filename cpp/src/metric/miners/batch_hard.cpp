// "batch_hard": per anchor with a positive and a negative in the batch, the farthest positive
// and the nearest negative (Hermans et al. 2017; pytorch-metric-learning's BatchHardMiner).
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/miner.h"

namespace lookalike::metric {
namespace {

class BatchHard final : public Miner {
 public:
  Tuples mine(const torch::Tensor& x, const torch::Tensor& labels) override {
    torch::NoGradGuard no_grad;
    auto d = detail::distance_matrix(x.detach().to(torch::kFloat));
    auto [pos, neg] = all_pairs(labels);
    const float inf = std::numeric_limits<float>::infinity();
    auto hardest_pos = d.masked_fill(pos.logical_not(), -inf).max(1);
    auto hardest_neg = d.masked_fill(neg.logical_not(), inf).min(1);
    auto ok = pos.any(1).logical_and(neg.any(1));
    auto anchors = ok.nonzero().squeeze(1);
    return {anchors,
            std::get<1>(hardest_pos).index_select(0, anchors),
            std::get<1>(hardest_neg).index_select(0, anchors),
            {},
            {}};
  }
};

}  // namespace

LOOKALIKE_REGISTER(miner_registry(), "batch_hard",
                   (MinerSpec{[](const MetricOptions&) -> std::unique_ptr<Miner> {
                                return std::make_unique<BatchHard>();
                              },
                              {}}))

}  // namespace lookalike::metric
