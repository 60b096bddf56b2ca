#pragma once
// The pooled embedding on top of a backbone's feature map: average or GeM pooling
// (Radenović et al. 2018: (mean x^p)^(1/p), p learnable), an optional linear projection
// (optionally followed by batch norm) and an optional L2 normalisation.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::models {

struct EmbeddingHeadOptions {
  std::string pooling = "avg";  // "avg" | "gem"
  double gem_p = 3.0;           // GeM's initial exponent
  bool gem_learnable = true;    // p trained with the rest
  int64_t dim = 0;              // projection width; 0: none (the embedding is the pooled map)
  bool batch_norm = false;      // BatchNorm1d after the projection (needs dim > 0)
  bool normalize = true;        // L2-normalise the embedding
};
LOOKALIKE_OPTIONS(EmbeddingHeadOptions, pooling, gem_p, gem_learnable, dim, batch_norm, normalize)

class EmbeddingHeadImpl : public torch::nn::Module {
 public:
  /// channels: C of the feature maps it pools. InvalidArgument for an unknown pooling, p <= 0
  /// or a negative dim.
  EmbeddingHeadImpl(int64_t channels, EmbeddingHeadOptions options = {});
  /// feature_map: float [B, C, h, w] -> float [B, dim or C].
  torch::Tensor forward(const torch::Tensor& feature_map);
  int64_t dim() const { return out_dim_; }
  const EmbeddingHeadOptions& options() const { return options_; }

 private:
  EmbeddingHeadOptions options_;
  int64_t channels_, out_dim_;
  torch::Tensor p_;  // GeM exponent [1]
  torch::nn::Linear proj_{nullptr};
  torch::nn::BatchNorm1d bn_{nullptr};
};
TORCH_MODULE(EmbeddingHead);

/// GeM pooling: float [B, C, h, w] -> [B, C], (mean over h, w of clamp(x, eps)^p)^(1/p).
torch::Tensor gem_pool(const torch::Tensor& x, const torch::Tensor& p, double eps = 1e-6);

}  // namespace lookalike::models
