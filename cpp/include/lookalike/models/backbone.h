#pragma once
// Backbones by name: a feature extractor that gives a feature map (for localisation and local
// matching) and, through an EmbeddingHead, a pooled embedding. One file per family in
// cpp/src/models/backbones/, each registering its names (util/registry.h):
//   convnet        conv3x3-BN-ReLU stages with max-pooling between them (channels per stage)
//   resnet8        CIFAR ResNet-8 in the MLPerf Tiny / Keras layout (biased convs, TF "same"
//                  padding, 1x1 projection shortcuts without BN, BN eps 1e-3): 16-32-64
//   resnet20       CIFAR ResNet-20 (He et al. 2016): 3 x 3 BasicBlocks, 16-32-64
//   resnet18/34    ImageNet ResNets of BasicBlocks, resnet50 of Bottlenecks (torchvision's
//                  layout and parameter names: conv1, bn1, layer1..4)
//   mobilenet_v2   MobileNetV2 (Sandler et al. 2018; torchvision's layout: features.0..18)
//   torchscript    a module exported from Python (torch.jit.trace/script + save), one stage
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

#include "lookalike/util/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::models {

/// What a backbone expects and gives.
struct BackboneInfo {
  int64_t channels = 0;           // C of the feature map
  int64_t stride = 1;             // input side / feature-map side
  int64_t min_input = 1;          // smallest input side it accepts
  int64_t input_size = 0;         // the side it was designed for (224 ImageNet, 32 CIFAR)
  int64_t stages = 0;             // freezable stages, stem first
  std::vector<double> mean, std;  // per-channel input normalisation of its pretraining
};

class Backbone : public torch::nn::Module {
 public:
  /// x: float [B, in_channels, H, W], already normalised. Returns the feature map
  /// float [B, C, ceil(H / stride), ceil(W / stride)] (for the convnet: H / stride, floored).
  /// InvalidArgument for a wrong channel count or a side below min_input.
  virtual torch::Tensor features(const torch::Tensor& x) = 0;
  virtual const BackboneInfo& info() const = 0;
  /// The modules of stage i (0 = the stem), for freezing the first N stages.
  virtual std::vector<std::shared_ptr<torch::nn::Module>> stage(int64_t i) = 0;

 protected:
  /// Shared input check (channels, minimum side), naming the backbone.
  void check_input(const torch::Tensor& x, int64_t in_channels, const std::string& name) const;
  /// The modules of stage i of a flat Sequential whose stages end (one past) at `ends`.
  std::vector<std::shared_ptr<torch::nn::Module>> stage_of(const torch::nn::Sequential& seq,
                                                           const std::vector<int64_t>& ends,
                                                           int64_t i,
                                                           const std::string& name) const;
};

/// A backbone's factory: its options as JSON (unknown keys are InvalidArgument naming them).
using BackboneFactory = std::shared_ptr<Backbone> (*)(const nlohmann::json& options);
util::Registry<BackboneFactory>& backbone_registry();

/// The registered backbone names, sorted.
std::vector<std::string> backbones();

/// The backbone `name` with its options (each family's struct: "in_channels" for all; the
/// convnet's "channels" and "blocks_per_stage"; mobilenet_v2's "width_mult").
std::shared_ptr<Backbone> make_backbone(const std::string& name,
                                        const nlohmann::json& options = nlohmann::json::object());

}  // namespace lookalike::models
