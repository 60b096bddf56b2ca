#pragma once
#include <torch/types.h>

namespace lookalike::data {

/// Images and labels of one split.
///   images: uint8 [N, C, H, W]; labels: int64 [N].
struct Dataset {
  torch::Tensor images;
  torch::Tensor labels;
  torch::Tensor clean_labels;  // optional int64 [N]: true labels when `labels` carry known noise
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

/// Throws InvalidArgument unless `images` is [N, C, H, W] (uint8 or float) and `labels` int64
/// [N]. `what` names the caller's inputs in the message.
void check_images_labels(const torch::Tensor& images, const torch::Tensor& labels,
                         const char* what);

}  // namespace lookalike::data
