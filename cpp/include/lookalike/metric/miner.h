#pragma once
// Miners pick the informative pairs or triplets of a batch for a pair or triplet loss
// (pytorch-metric-learning's definitions; one file each in cpp/src/metric/miners/):
//   batch_hard         per anchor, the farthest positive and the nearest negative (Hermans et
//                      al. 2017); d: Euclidean distance of L2-normalised embeddings
//   semi_hard          every triplet with 0 < d_an - d_ap <= miner_margin (Schroff et al. 2015)
//   multi_similarity   cosine similarities S: a negative when S_an + epsilon > the anchor's
//                      smallest positive S, a positive when S_ap - epsilon < its largest
//                      negative S (Wang et al. 2019)
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <torch/types.h>

#include "lookalike/metric/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::metric {

/// A miner's output: triplets (anchor, positive, negative: int64 [T] each) or pair masks
/// (bool [B, B]: positive pairs and negative pairs kept). Undefined: every pair / triplet.
struct Tuples {
  torch::Tensor anchor, positive, negative;
  torch::Tensor pos_pairs, neg_pairs;
  bool empty() const { return !anchor.defined() && !pos_pairs.defined(); }
};

/// All pairs of a batch (labels int64 [B]): positives share a label (i != j), negatives do not.
/// bool [B, B] each.
std::pair<torch::Tensor, torch::Tensor> all_pairs(const torch::Tensor& labels);
/// The pair masks of `t` (triplets give their (a, p) and (a, n) pairs), or all pairs when empty.
std::pair<torch::Tensor, torch::Tensor> pair_masks(const Tuples& t, const torch::Tensor& labels);
/// The triplets of `t` (pair masks give every (a, p, n) with both pairs kept), or all triplets
/// when empty: int64 [T] each.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> triplets(const Tuples& t,
                                                                 const torch::Tensor& labels);

class Miner {
 public:
  virtual ~Miner() = default;
  /// embeddings float [B, D], labels int64 [B] -> the tuples kept (computed without gradient).
  virtual Tuples mine(const torch::Tensor& embeddings, const torch::Tensor& labels) = 0;
};

/// A miner as registered: its factory and the options it reads.
struct MinerSpec {
  std::unique_ptr<Miner> (*make)(const MetricOptions& options);
  std::vector<std::string> options;
};
util::Registry<MinerSpec>& miner_registry();

/// The registered miner names, sorted.
std::vector<std::string> miners();

/// The miner named by options.miner; nullptr for "none".
std::unique_ptr<Miner> make_miner(const MetricOptions& options);

}  // namespace lookalike::metric
