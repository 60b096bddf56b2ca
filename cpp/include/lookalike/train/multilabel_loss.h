#pragma once
// Multi-label classification losses by name: one sigmoid per tag, logits float [B, K] against
// 0/1 targets float [B, K], the mean over the B x K terms. One file each in
// cpp/src/train/multilabel_losses/:
//   bce    binary cross-entropy, optionally with a per-tag positive weight
//   focal  Lin et al. 2017: BCE x (1 - p_t)^gamma, and alpha / (1 - alpha) on positives /
//          negatives (alpha < 0: no class weighting)
//   asl    asymmetric loss (Ridnik et al. 2021): positives L+ = (1 - p)^gamma_pos log p;
//          negatives with the probability shifted down by clip, p_m = max(p - clip, 0),
//          L- = p_m^gamma_neg log(1 - p_m): easy and possibly mislabelled negatives weigh less
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::train {

struct MultiLabelLossOptions {
  std::string name = "bce";  // a name of multilabel_losses()
  double gamma = 2.0;        // focal
  double alpha = -1.0;       // focal: weight of positives (negatives 1 - alpha); < 0: none
  double gamma_pos = 0.0;    // asl
  double gamma_neg = 4.0;    // asl
  double clip = 0.05;        // asl: probability margin of negatives
};
LOOKALIKE_OPTIONS(MultiLabelLossOptions, name, gamma, alpha, gamma_pos, gamma_neg, clip)

class MultiLabelLoss {
 public:
  virtual ~MultiLabelLoss() = default;
  /// logits float [B, K], targets float [B, K] of 0/1, pos_weight float [K] (undefined: 1) ->
  /// the mean loss (a scalar).
  virtual torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                                const torch::Tensor& pos_weight) const = 0;
};

using MultiLabelLossFactory = std::shared_ptr<MultiLabelLoss> (*)(const MultiLabelLossOptions&);
util::Registry<MultiLabelLossFactory>& multilabel_loss_registry();

/// The registered names, sorted.
std::vector<std::string> multilabel_losses();

/// The loss `options.name`; InvalidArgument for an unknown name or a bad option (gamma < 0,
/// alpha > 1, clip outside [0, 1)).
std::shared_ptr<MultiLabelLoss> make_multilabel_loss(const MultiLabelLossOptions& options);

}  // namespace lookalike::train
