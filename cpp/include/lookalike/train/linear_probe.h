#pragma once
// A linear classifier trained on a frozen network's pooled features (a "linear probe"): the
// classifier a class activation map needs (localise/cam.h), trained in seconds because the
// backbone runs once per image. Single-label (softmax cross-entropy) or multi-label (one
// sigmoid per tag, binary cross-entropy).
#include <string>

#include <torch/types.h>

#include "lookalike/models/net.h"
#include "lookalike/train/multilabel_loss.h"
#include "lookalike/util/json.h"
#include "lookalike/util/options.h"

namespace lookalike::train {

struct ProbeOptions {
  int epochs = 300;
  double lr = 1e-2;                 // Adam
  double weight_decay = 1e-4;       // L2 on the weights (not the bias), added to the loss
  int64_t batch_size = 0;           // 0: the whole set each step (one step per epoch)
  std::string pos_weight = "none";  // multi-label: "none" | "balanced" (negatives / positives)
  MultiLabelLossOptions loss;       // multi-label: the loss by name (bce, focal, asl)
  uint64_t seed = 0;
};
LOOKALIKE_OPTIONS(ProbeOptions, epochs, lr, weight_decay, batch_size, pos_weight, loss, seed)

/// InvalidArgument naming the first bad option.
void validate(const ProbeOptions& options);

/// The pooled features the classifier reads (the embedding before its ReLU, not normalised):
/// float [N, D] for images uint8/float [N, C, H, W], in eval mode, batches of batch_size.
torch::Tensor pooled_features(models::Net& net, const torch::Tensor& images,
                              int64_t batch_size = 64, const std::string& device = "cpu");

/// Trains `net`'s classifier (which must exist, with K outputs) on `features` float [N, D]
/// (pooled_features) and `targets`: int64 [N] in [0, K) (softmax cross-entropy) or float [N, K]
/// of 0/1 (one sigmoid per output, options.loss: binary cross-entropy by default), from zero
/// weights (what it held before is discarded; the objective is convex). Nothing else of the network
/// changes. Returns {"loss": the last epoch's mean loss, "epochs", "seconds"}. InvalidArgument for
/// shapes that disagree, NaN features, targets other than these, an empty set.
util::Record fit_linear_probe(models::Net& net, const torch::Tensor& features,
                              const torch::Tensor& targets, const ProbeOptions& options = {});

/// The classifier's logits from pooled features float [N, D] (pooled_features): what forward
/// gives for the same images, without running the backbone again. float [N, K].
torch::Tensor probe_logits(models::Net& net, const torch::Tensor& features);

}  // namespace lookalike::train
