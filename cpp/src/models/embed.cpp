#include "lookalike/models/embed.h"

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/device.h"

namespace lookalike::models {

InferenceOutput infer(Net& model, const torch::Tensor& images, int64_t batch_size,
                      const std::string& device_name, bool with_logits) {
  LOOKALIKE_CHECK_ARG(!model.is_empty(), "infer: the model is empty");
  LOOKALIKE_CHECK_ARG(images.defined() && images.dim() == 4,
                      "infer: images must be [N, C, H, W], got ",
                      images.defined() ? images.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(
      images.scalar_type() == torch::kUInt8 || images.scalar_type() == torch::kFloat,
      "infer: images must be uint8 or float32, got ", images.scalar_type());
  LOOKALIKE_CHECK_ARG(images.size(1) == model->options().in_channels, "infer: the model expects ",
                      model->options().in_channels, " channels, images have ", images.size(1));
  LOOKALIKE_CHECK_ARG(batch_size > 0, "infer: batch_size must be positive, got ", batch_size);
  LOOKALIKE_CHECK_ARG(!with_logits || model->classifier(),
                      "infer: logits asked of a network without a classifier (num_classes 0)");
  const auto device = util::parse_device(device_name);
  const int64_t n = images.size(0);
  InferenceOutput out;
  out.embeddings = torch::empty({n, model->embedding_dim()}, torch::kFloat);
  if (with_logits) out.logits = torch::empty({n, model->options().num_classes}, torch::kFloat);
  const bool was_training = model->is_training();
  model->eval();
  model->to(device);  // before inference mode: parameters made inside it could not train later
  const util::CpuCacheScope cache;  // every batch allocates the same large activations
  const c10::InferenceMode inference;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    auto x = images.slice(0, start, end).to(device);
    x = x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat).div_(255.0f) : x;
    auto result = model->forward(x);
    out.embeddings.slice(0, start, end)
        .copy_(
            torch::nn::functional::normalize(result.embedding.to(torch::kFloat),
                                             torch::nn::functional::NormalizeFuncOptions().dim(1)));
    if (with_logits) out.logits.slice(0, start, end).copy_(result.logits.to(torch::kFloat));
  }
  model->train(was_training);
  return out;
}

}  // namespace lookalike::models
