#include "lookalike/data/dataset.h"

#include "lookalike/error.h"

namespace lookalike::data {

void check_images_labels(const torch::Tensor& images, const torch::Tensor& labels,
                         const char* what) {
  LOOKALIKE_CHECK_ARG(images.defined() && images.dim() == 4, what,
                      ": images must be a 4-d tensor [N, C, H, W], got ",
                      images.defined() ? images.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(
      images.scalar_type() == torch::kUInt8 || images.scalar_type() == torch::kFloat, what,
      ": images must be uint8 or float32, got ", images.scalar_type());
  LOOKALIKE_CHECK_ARG(labels.defined() && labels.dim() == 1, what,
                      ": labels must be a 1-d int64 tensor [N]");
  LOOKALIKE_CHECK_ARG(labels.scalar_type() == torch::kLong, what, ": labels must be int64, got ",
                      labels.scalar_type());
  LOOKALIKE_CHECK_ARG(images.size(0) == labels.size(0), what, ": ", images.size(0), " images but ",
                      labels.size(0), " labels (lengths must match)");
  LOOKALIKE_CHECK_ARG(images.size(0) > 0, what, ": empty set (0 images)");
  if (images.scalar_type() == torch::kFloat) {
    LOOKALIKE_CHECK_ARG(torch::isfinite(images).all().item<bool>(), what,
                        ": images contain NaN or Inf");
  }
  LOOKALIKE_CHECK_ARG(labels.min().item<int64_t>() >= 0, what, ": labels must be >= 0");
}

}  // namespace lookalike::data
