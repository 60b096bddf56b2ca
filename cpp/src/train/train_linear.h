#pragma once
// Private to train/: the loop that fits a linear layer on fixed features (the linear probe and
// the tag probe).
#include <functional>

#include <torch/types.h>

#include "lookalike/train/linear_probe.h"

namespace lookalike::train::detail {

/// loss(logits float [B, K] of a batch, its rows int64 [B]) -> the batch's data term.
using LinearLoss = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;

/// Trains weight [K, D] and bias [K] (zeroed first: the objective is convex, so the result
/// depends on the data and options alone) on x float [N, D] for options.epochs epochs of Adam
/// (batches of options.batch_size, seeded order), L2 on the weight added to the data term.
/// Returns the last epoch's mean data loss.
double train_linear(const torch::Tensor& x, torch::Tensor weight, torch::Tensor bias,
                    const ProbeOptions& options, const LinearLoss& loss);

}  // namespace lookalike::train::detail
