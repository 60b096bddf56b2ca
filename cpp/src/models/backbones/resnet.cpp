// The ResNet family: "resnet18", "resnet34", "resnet50" (ImageNet, torchvision's layout and
// parameter names), "resnet20" (CIFAR, He et al. 2016, projection shortcuts) and "resnet8"
// (CIFAR, the MLPerf Tiny / Keras layout: biased convs, TF "same" padding, 1x1 projection
// shortcuts without BN, BN eps 1e-3).
#include <torch/torch.h>

#include "layers.h"
#include "lookalike/error.h"
#include "lookalike/models/backbone.h"

namespace lookalike::models {
namespace {

struct ResNetOptions {
  int64_t in_channels = 3;
};
LOOKALIKE_OPTIONS(ResNetOptions, in_channels)

// How a network's convolutions and shortcuts are built.
struct Layout {
  bool bias = false;
  std::string padding = "torch";
  double bn_eps = 1e-5;
  bool shortcut_bn = true;
};

torch::nn::BatchNorm2d bn(int64_t c, const Layout& l) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(c).eps(l.bn_eps));
}

// BasicBlock (expansion 1) or Bottleneck (expansion 4, stride on the 3x3 as torchvision).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int64_t in, int64_t planes, int64_t stride, bool bottleneck, const Layout& l)
      : bottleneck_(bottleneck) {
    using detail::ConvSpec;
    using detail::SameConv2d;
    const int64_t out = bottleneck ? planes * 4 : planes;
    if (bottleneck) {
      conv1_ =
          register_module("conv1", SameConv2d(ConvSpec{in, planes, 1, 1, 1, l.bias, l.padding}));
      bn1_ = register_module("bn1", bn(planes, l));
      conv2_ = register_module(
          "conv2", SameConv2d(ConvSpec{planes, planes, 3, stride, 1, l.bias, l.padding}));
      bn2_ = register_module("bn2", bn(planes, l));
      conv3_ =
          register_module("conv3", SameConv2d(ConvSpec{planes, out, 1, 1, 1, l.bias, l.padding}));
      bn3_ = register_module("bn3", bn(out, l));
    } else {
      conv1_ = register_module("conv1",
                               SameConv2d(ConvSpec{in, planes, 3, stride, 1, l.bias, l.padding}));
      bn1_ = register_module("bn1", bn(planes, l));
      conv2_ = register_module("conv2",
                               SameConv2d(ConvSpec{planes, planes, 3, 1, 1, l.bias, l.padding}));
      bn2_ = register_module("bn2", bn(planes, l));
    }
    if (stride != 1 || in != out) {
      torch::nn::Sequential down;
      down->push_back(detail::SameConv2d(ConvSpec{in, out, 1, stride, 1, l.bias, l.padding}));
      if (l.shortcut_bn) down->push_back(bn(out, l));
      downsample_ = register_module("downsample", down);
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1_(conv1_(x)));
    y = bn2_(conv2_(y));
    if (bottleneck_) y = bn3_(conv3_(torch::relu(y)));
    return torch::relu(y + (downsample_ ? downsample_->forward(x) : x));
  }

 private:
  bool bottleneck_;
  detail::SameConv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Block);

// What distinguishes the members of the family.
struct Variant {
  std::string name;
  std::vector<int64_t> blocks;  // per layer
  std::vector<int64_t> planes;  // per layer
  bool bottleneck = false;
  bool imagenet_stem = true;  // 7x7/2 conv + 3x3/2 max-pool; else a 3x3/1 conv
  Layout layout;
};

class ResNet final : public Backbone {
 public:
  ResNet(Variant v, const ResNetOptions& o) : v_(std::move(v)), in_channels_(o.in_channels) {
    LOOKALIKE_CHECK_ARG(o.in_channels > 0, v_.name, ": in_channels must be positive");
    const auto& l = v_.layout;
    const int64_t stem = v_.planes[0];
    conv1_ = register_module(
        "conv1", detail::SameConv2d(detail::ConvSpec{
                     o.in_channels, v_.imagenet_stem ? 64 : stem, v_.imagenet_stem ? 7 : 3,
                     v_.imagenet_stem ? 2 : 1, 1, l.bias, l.padding}));
    bn1_ = register_module("bn1", bn(v_.imagenet_stem ? 64 : stem, l));
    int64_t in = v_.imagenet_stem ? 64 : stem;
    for (size_t s = 0; s < v_.blocks.size(); ++s) {
      torch::nn::Sequential layer;
      for (int64_t b = 0; b < v_.blocks[s]; ++b) {
        const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
        layer->push_back(Block(in, v_.planes[s], stride, v_.bottleneck, l));
        in = v_.bottleneck ? v_.planes[s] * 4 : v_.planes[s];
      }
      layers_.push_back(register_module("layer" + std::to_string(s + 1), layer));
    }
    info_.channels = in;
    info_.stride = (v_.imagenet_stem ? 4 : 1) << (v_.blocks.size() - 1);
    info_.min_input = info_.stride;
    info_.input_size = v_.imagenet_stem ? 224 : 32;
    info_.stages = 1 + static_cast<int64_t>(v_.blocks.size());
    if (v_.imagenet_stem) {
      info_.mean = {0.485, 0.456, 0.406}, info_.std = {0.229, 0.224, 0.225};
    } else if (v_.name == "resnet8") {  // MLPerf Tiny feeds pixels scaled to [0, 1]
      info_.mean = {0, 0, 0}, info_.std = {1, 1, 1};
    } else {  // CIFAR-10 channel statistics
      info_.mean = {0.4914, 0.4822, 0.4465}, info_.std = {0.2470, 0.2435, 0.2616};
    }
  }
  torch::Tensor features(const torch::Tensor& x) override {
    check_input(x, in_channels_, v_.name);
    auto y = torch::relu(bn1_(conv1_(x)));
    if (v_.imagenet_stem) y = torch::max_pool2d(y, 3, 2, 1);
    for (auto& layer : layers_) y = layer->forward(y);
    return y;
  }
  const BackboneInfo& info() const override { return info_; }
  std::vector<std::shared_ptr<torch::nn::Module>> stage(int64_t i) override {
    LOOKALIKE_CHECK_ARG(i >= 0 && i < info_.stages, v_.name, ": stage ", i, " outside [0, ",
                        info_.stages, ")");
    if (i == 0) return {conv1_.ptr(), bn1_.ptr()};
    return {layers_[static_cast<size_t>(i - 1)].ptr()};
  }

 private:
  Variant v_;
  int64_t in_channels_;
  BackboneInfo info_;
  detail::SameConv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<torch::nn::Sequential> layers_;
};

template <int Which>
std::shared_ptr<Backbone> make(const nlohmann::json& options) {
  static const Variant variants[] = {
      {"resnet18", {2, 2, 2, 2}, {64, 128, 256, 512}, false, true, {}},
      {"resnet34", {3, 4, 6, 3}, {64, 128, 256, 512}, false, true, {}},
      {"resnet50", {3, 4, 6, 3}, {64, 128, 256, 512}, true, true, {}},
      {"resnet20", {3, 3, 3}, {16, 32, 64}, false, false, {}},
      {"resnet8", {1, 1, 1}, {16, 32, 64}, false, false, {true, "tf", 1e-3, false}},
  };
  const Variant& v = variants[Which];
  ResNetOptions o;
  util::options_from_json(options, o, v.name);
  return std::make_shared<ResNet>(v, o);
}
}  // namespace

LOOKALIKE_REGISTER(backbone_registry(), "resnet18", make<0>)
LOOKALIKE_REGISTER(backbone_registry(), "resnet34", make<1>)
LOOKALIKE_REGISTER(backbone_registry(), "resnet50", make<2>)
LOOKALIKE_REGISTER(backbone_registry(), "resnet20", make<3>)
LOOKALIKE_REGISTER(backbone_registry(), "resnet8", make<4>)

}  // namespace lookalike::models
