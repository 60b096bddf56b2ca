#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

namespace lookalike::data {

/// Images and labels of one split.
///   images: uint8 [N, C, H, W]; labels: int64 [N]. A multi-label (tag) set has targets float
///   [N, T] (0/1) with the tag names [T] instead of labels (labels may be left undefined).
struct Dataset {
  torch::Tensor images;
  torch::Tensor labels;
  torch::Tensor clean_labels =
      {};                      // optional int64 [N]: true labels when `labels` carry known noise
  torch::Tensor targets = {};  // optional float [N, T]: tags (train/tag_heads.h)
  std::vector<std::string> tags = {};
  int64_t size() const {
    return labels.defined() ? labels.size(0) : targets.defined() ? targets.size(0) : 0;
  }
};

/// Throws InvalidArgument unless `images` is [N, C, H, W] (uint8 or float) and `labels` int64
/// [N]. `what` names the caller's inputs in the message.
void check_images_labels(const torch::Tensor& images, const torch::Tensor& labels,
                         const char* what);

}  // namespace lookalike::data
