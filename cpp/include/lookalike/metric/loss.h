#pragma once
// Metric-learning losses by name, with pytorch-metric-learning's definitions and defaults (one
// file each in cpp/src/metric/losses/):
//   contrastive         mean over positive pairs of relu(d - pos_margin) plus mean over negative
//                       pairs of relu(neg_margin - d), each over its non-zero terms (PML's
//                       AvgNonZeroReducer); d: Euclidean distance of L2-normalised embeddings
//   triplet             relu(d_ap - d_an + triplet_margin) over all (or the mined) triplets,
//                       mean over the non-zero ones
//   multi_similarity    Wang et al. 2019 on cosine similarities S: per anchor
//                       1/alpha log(1 + sum_p exp(-alpha (S_ap - base)))
//                       + 1/beta log(1 + sum_n exp(beta (S_an - base))), mean over anchors
//   normalized_softmax  cross-entropy of cos(x, w_c) / temperature (Zhai & Wu 2019)
//   proxy_anchor        Kim et al. 2020: per proxy, softplus-sums of alpha (margin -/+ s(x, p))
//                       over its positives (proxies with positives) and negatives (all proxies)
//   arcface             Deng et al. 2019: cross-entropy of scale cos(theta + m) for the class,
//                       scale cos(theta) for the others
// Pair and triplet losses take a miner's output (metric/miner.h); the proxy and classification
// losses own parameters (proxies, class weights) trained with the head.
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "lookalike/metric/miner.h"
#include "lookalike/metric/options.h"
#include "lookalike/util/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::metric {

class MetricLoss : public torch::nn::Module {
 public:
  /// embeddings: float [B, D] (normalised inside as the definition says); labels: int64 [B] in
  /// [0, classes); mined: the miner's tuples (undefined without a miner: every pair / triplet
  /// of the batch). Returns the scalar loss (0 with a live graph when nothing contributes).
  virtual torch::Tensor forward(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                const Tuples& mined) = 0;
};

/// A loss as registered: its factory (options, embedding width, number of classes), the
/// options it reads, and whether it takes a miner's tuples.
struct LossSpec {
  std::shared_ptr<MetricLoss> (*make)(const MetricOptions& options, int64_t dim, int64_t classes);
  std::vector<std::string> options;
  bool mined = true;
};
util::Registry<LossSpec>& loss_registry();

/// The registered loss names, sorted.
std::vector<std::string> metric_losses();

/// Checks the options: a known loss and miner, a miner only for pair and triplet losses, valid
/// values, and no option set away from its default that neither the loss nor the miner reads.
void validate(const MetricOptions& options);

/// The loss named by options.loss (validated) for embeddings of width `dim` and `classes`.
std::shared_ptr<MetricLoss> make_loss(const MetricOptions& options, int64_t dim, int64_t classes);

}  // namespace lookalike::metric
