#pragma once
// Building blocks the backbone files share: a convolution with PyTorch or TensorFlow "same"
// padding (TF pads the extra row/column at the bottom/right, which pretrained Keras/TFLite
// weights expect) and conv-BN-activation sequences with torchvision's child names.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lookalike/models/backbone.h"

namespace lookalike::models::detail {

struct ConvSpec {
  int64_t in, out, kernel = 3, stride = 1, groups = 1;
  bool bias = false;
  std::string padding = "torch";  // "torch": k/2 on every side; "tf": TensorFlow "same"
};

/// A 2-d convolution whose parameters are named like torch::nn::Conv2d's (weight, bias), with
/// the padding of ConvSpec. Kaiming-normal (fan out) initialisation, zero bias.
class SameConv2dImpl : public torch::nn::Module {
 public:
  explicit SameConv2dImpl(const ConvSpec& spec);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& w,
                     std::vector<int64_t> padding) const;
  ConvSpec spec_;
};
TORCH_MODULE(SameConv2d);

/// A Sequential with a plain forward, so that it can sit inside another Sequential.
class ConvBNActImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(ConvBNAct);

/// Sequential(conv, BatchNorm2d(eps), [ReLU | ReLU6]) — torchvision's Conv2dNormActivation
/// child names 0, 1, 2. activation: "relu", "relu6" or "none".
ConvBNAct conv_bn(const ConvSpec& spec, const std::string& activation, double bn_eps = 1e-5);

/// A backbone that is one flat Sequential (registered as "features") cut into stages at
/// stage_ends: the convnet and mobilenet_v2. Subclasses build features_, stage_ends_ and info_.
class SequentialBackbone : public Backbone {
 public:
  SequentialBackbone(std::string name, int64_t in_channels)
      : name_(std::move(name)), in_channels_(in_channels) {}
  torch::Tensor features(const torch::Tensor& x) override {
    check_input(x, in_channels_, name_);
    return features_->forward(x);
  }
  const BackboneInfo& info() const override { return info_; }
  std::vector<std::shared_ptr<torch::nn::Module>> stage(int64_t i) override {
    return stage_of(features_, stage_ends_, i, name_);
  }

 protected:
  std::string name_;
  int64_t in_channels_;
  BackboneInfo info_;
  std::vector<int64_t> stage_ends_;  // features index one past each stage
  torch::nn::Sequential features_{nullptr};
};

}  // namespace lookalike::models::detail
