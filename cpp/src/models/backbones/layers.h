#pragma once
// Building blocks the backbone files share: a convolution with PyTorch or TensorFlow "same"
// padding (TF pads the extra row/column at the bottom/right, which pretrained Keras/TFLite
// weights expect) and conv-BN-activation sequences with torchvision's child names.
#include <torch/torch.h>

#include <string>

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
  torch::Tensor conv(const torch::Tensor& x, int64_t padding) const;
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

}  // namespace lookalike::models::detail
