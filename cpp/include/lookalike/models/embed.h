#pragma once
// Batch inference with a network.
#include <string>

#include "lookalike/models/net.h"

namespace lookalike::models {

struct InferenceOutput {
  torch::Tensor embeddings;  // float32 [N, D], L2-normalised, on the CPU
  torch::Tensor logits;      // float32 [N, num_classes], on the CPU (when asked)
};

/// Runs `model` in eval mode over `images` (uint8 or float [N, C, H, W]) in batches of
/// `batch_size` on `device`. Returns L2-normalised embeddings and, with `with_logits`, logits
/// (InvalidArgument when the network has no classifier).
InferenceOutput infer(Net& model, const torch::Tensor& images, int64_t batch_size = 1024,
                      const std::string& device = "cpu", bool with_logits = false);

}  // namespace lookalike::models
