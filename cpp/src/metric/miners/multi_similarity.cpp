// "multi_similarity": on cosine similarities S, a negative pair is kept when S_an + epsilon
// exceeds the anchor's smallest positive similarity, a positive pair when S_ap - epsilon is
// below its largest negative similarity (Wang et al. 2019; pytorch-metric-learning's
// MultiSimilarityMiner). An anchor without positives keeps no negatives, and vice versa.
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/miner.h"

namespace lookalike::metric {
namespace {

class MultiSimilarityMiner final : public Miner {
 public:
  explicit MultiSimilarityMiner(double epsilon) : epsilon_(epsilon) {}
  Tuples mine(const torch::Tensor& x, const torch::Tensor& labels) override {
    torch::NoGradGuard no_grad;
    auto s = detail::cosine(x.detach().to(torch::kFloat), x.detach().to(torch::kFloat));
    auto [pos, neg] = all_pairs(labels);
    const float inf = std::numeric_limits<float>::infinity();
    auto min_pos = std::get<0>(s.masked_fill(pos.logical_not(), inf).min(1, true));
    auto max_neg = std::get<0>(s.masked_fill(neg.logical_not(), -inf).max(1, true));
    Tuples t;
    t.neg_pairs = neg.logical_and(s + epsilon_ > min_pos);  // +inf when no positive: none
    t.pos_pairs = pos.logical_and(s - epsilon_ < max_neg);  // -inf when no negative: none
    return t;
  }

 private:
  double epsilon_;
};

}  // namespace

LOOKALIKE_REGISTER(miner_registry(), "multi_similarity",
                   (MinerSpec{[](const MetricOptions& o) -> std::unique_ptr<Miner> {
                                return std::make_unique<MultiSimilarityMiner>(o.miner_epsilon);
                              },
                              {"miner_epsilon"}}))

}  // namespace lookalike::metric
