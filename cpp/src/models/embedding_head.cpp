#include "lookalike/models/embedding_head.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::models {

torch::Tensor gem_pool(const torch::Tensor& x, const torch::Tensor& p, double eps) {
  return x.clamp_min(eps).pow(p).mean({2, 3}).pow(1.0 / p);
}

EmbeddingHeadImpl::EmbeddingHeadImpl(int64_t channels, EmbeddingHeadOptions options)
    : options_(std::move(options)), channels_(channels) {
  LOOKALIKE_CHECK_ARG(channels > 0, "EmbeddingHead: channels must be positive, got ", channels);
  LOOKALIKE_CHECK_ARG(options_.pooling == "avg" || options_.pooling == "gem",
                      "EmbeddingHead: pooling must be avg or gem, got '", options_.pooling, "'");
  LOOKALIKE_CHECK_ARG(options_.gem_p > 0, "EmbeddingHead: gem_p must be > 0, got ", options_.gem_p);
  LOOKALIKE_CHECK_ARG(options_.dim >= 0, "EmbeddingHead: dim must be >= 0, got ", options_.dim);
  LOOKALIKE_CHECK_ARG(!options_.batch_norm || options_.dim > 0,
                      "EmbeddingHead: batch_norm needs a projection (dim > 0)");
  if (options_.pooling == "gem") {
    auto p = torch::full({1}, options_.gem_p);
    p_ = options_.gem_learnable ? register_parameter("gem_p", p) : register_buffer("gem_p", p);
  }
  out_dim_ = options_.dim > 0 ? options_.dim : channels_;
  if (options_.dim > 0) proj_ = register_module("proj", torch::nn::Linear(channels_, options_.dim));
  if (options_.batch_norm) bn_ = register_module("bn", torch::nn::BatchNorm1d(options_.dim));
}

torch::Tensor EmbeddingHeadImpl::forward(const torch::Tensor& feature_map) {
  LOOKALIKE_CHECK_ARG(feature_map.dim() == 4 && feature_map.size(1) == channels_,
                      "EmbeddingHead expects [B, ", channels_, ", h, w] feature maps, got ",
                      feature_map.sizes());
  auto z = options_.pooling == "gem" ? gem_pool(feature_map, p_) : feature_map.mean({2, 3});
  if (proj_) z = proj_->forward(z);
  if (bn_) z = bn_->forward(z);
  if (options_.normalize)
    z = torch::nn::functional::normalize(z, torch::nn::functional::NormalizeFuncOptions().dim(1));
  return z;
}

}  // namespace lookalike::models
