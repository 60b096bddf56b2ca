#pragma once
// A configurable ConvNet: stages of conv3x3-BN-ReLU blocks with 2x2 max-pooling between
// stages, global average pooling, an embedding layer and a classification head.
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "lookalike/util/options.h"

namespace lookalike::models {

struct ConvNetOptions {
  int in_channels = 0;  // 0: from the training images (Trainer); must match them when set
  std::vector<int> channels = {32, 64, 128};  // one stage per entry
  int blocks_per_stage = 1;                   // conv-BN-ReLU blocks in each stage
  int embedding_dim = 128;
  int num_classes = 0;   // 0: from the training labels (Trainer); a ConvNet needs it > 0
  double dropout = 0.0;  // before the head
};
LOOKALIKE_OPTIONS(ConvNetOptions, in_channels, channels, blocks_per_stage, embedding_dim,
                  num_classes, dropout)

/// Output of a forward pass.
///   logits: [B, num_classes]; embedding: [B, embedding_dim] (not normalised).
struct ConvNetOutput {
  torch::Tensor logits;
  torch::Tensor embedding;
};

class ConvNetImpl : public torch::nn::Module {
 public:
  explicit ConvNetImpl(ConvNetOptions options);

  /// x: float [B, C, H, W] in [0, 1] (normalised inside with the stored mean/std).
  ConvNetOutput forward(const torch::Tensor& x);

  /// Sets the per-channel input normalisation (float [C] each), stored with the weights.
  void set_normalization(const torch::Tensor& mean, const torch::Tensor& std);

  const ConvNetOptions& options() const { return options_; }

 private:
  ConvNetOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear embed_{nullptr};
  torch::nn::BatchNorm1d embed_bn_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear head_{nullptr};
  torch::Tensor mean_, std_;
};
TORCH_MODULE(ConvNet);

/// The ConvNet's stages: per entry of `channels`, blocks_per_stage conv3x3-BN-ReLU blocks, with
/// 2x2 max-pooling between stages; [B, in_channels, H, W] -> [B, channels.back(), H / 2^(S-1),
/// W / 2^(S-1)]. stage_ends (out, optional): the module index one past each stage.
torch::nn::Sequential convnet_stages(int in_channels, const std::vector<int>& channels,
                                     int blocks_per_stage,
                                     std::vector<int64_t>* stage_ends = nullptr);

/// Checks the options (positive sizes, at least one stage); throws InvalidArgument.
void validate(const ConvNetOptions& options);

}  // namespace lookalike::models
