#pragma once
// Out-of-fold class probabilities from the C++ Trainer: noisy::cross_val_pred_probs with a
// network trained per fold (train depends on noisy, never the other way round).
#include <cstdint>

#include <torch/types.h>

#include "lookalike/data/dataset.h"
#include "lookalike/train/trainer.h"

namespace lookalike::train {

/// Out-of-fold softmax probabilities (float32 [N, C]) of `set` (images [N, C, H, W], labels
/// int64 [N]) by K-fold cross-training: fold f (stratified, seeded by `seed`) is predicted by a
/// network trained with `options` (seed options.seed + 7919 (f + 1); no checkpoints or logs) on
/// the other folds.
torch::Tensor cross_val_pred_probs(const data::Dataset& set, int64_t folds,
                                   const TrainOptions& options, uint64_t seed = 0);

}  // namespace lookalike::train
