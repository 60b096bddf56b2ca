// "mobilenet_v2": MobileNetV2 (Sandler et al. 2018) in torchvision's layout and parameter names
// (features.0 .. features.18), width multiplier and TF "same" padding as options.
#include <torch/torch.h>

#include <cmath>

#include "layers.h"
#include "lookalike/error.h"
#include "lookalike/models/backbone.h"

namespace lookalike::models {
namespace {

struct MobileNetV2Options {
  int64_t in_channels = 3;
  double width_mult = 1.0;
  std::string padding = "torch";  // "tf": TensorFlow "same" (TFLite / Keras weights)
};
LOOKALIKE_OPTIONS(MobileNetV2Options, in_channels, width_mult, padding)

// torchvision's _make_divisible: the nearest multiple of 8, never 10 % below v.
int64_t divisible(double v, int64_t d = 8) {
  int64_t n = std::max<int64_t>(d, static_cast<int64_t>(v + d / 2.0) / d * d);
  if (n < 0.9 * v) n += d;
  return n;
}

// Inverted residual: [1x1 expand] -> 3x3 depthwise -> 1x1 linear projection (+ input when the
// shape allows), as torchvision's InvertedResidual (child "conv").
class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expand,
                       const std::string& padding)
      : residual_(stride == 1 && in == out) {
    using detail::ConvSpec;
    const int64_t hidden = in * expand;
    torch::nn::Sequential conv;
    if (expand != 1)
      conv->push_back(detail::conv_bn(ConvSpec{in, hidden, 1, 1, 1, false, padding}, "relu6"));
    conv->push_back(
        detail::conv_bn(ConvSpec{hidden, hidden, 3, stride, hidden, false, padding}, "relu6"));
    conv->push_back(detail::SameConv2d(ConvSpec{hidden, out, 1, 1, 1, false, padding}));
    conv->push_back(torch::nn::BatchNorm2d(out));
    conv_ = register_module("conv", conv);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = conv_->forward(x);
    return residual_ ? x + y : y;
  }

 private:
  bool residual_;
  torch::nn::Sequential conv_{nullptr};
};
TORCH_MODULE(InvertedResidual);

class MobileNetV2 final : public detail::SequentialBackbone {
 public:
  explicit MobileNetV2(const MobileNetV2Options& o)
      : SequentialBackbone("mobilenet_v2", o.in_channels) {
    LOOKALIKE_CHECK_ARG(o.in_channels > 0 && o.width_mult > 0,
                        "mobilenet_v2: in_channels and width_mult must be positive");
    // (expansion t, channels c, repeats n, first stride s) per group, as in the paper.
    const int64_t settings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                    {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    torch::nn::Sequential features;
    int64_t in = divisible(32 * o.width_mult);
    features->push_back(
        detail::conv_bn(detail::ConvSpec{o.in_channels, in, 3, 2, 1, false, o.padding}, "relu6"));
    stage_ends_.push_back(1);
    for (const auto& s : settings) {
      const int64_t out = divisible(double(s[1]) * o.width_mult);
      for (int64_t i = 0; i < s[2]; ++i) {
        features->push_back(InvertedResidual(in, out, i == 0 ? s[3] : 1, s[0], o.padding));
        in = out;
      }
      stage_ends_.push_back(static_cast<int64_t>(features->size()));
    }
    const int64_t last = divisible(1280 * std::max(1.0, o.width_mult));
    features->push_back(
        detail::conv_bn(detail::ConvSpec{in, last, 1, 1, 1, false, o.padding}, "relu6"));
    stage_ends_.push_back(static_cast<int64_t>(features->size()));
    features_ = register_module("features", features);
    info_.channels = last;
    info_.stride = 32;
    info_.min_input = 32;
    info_.input_size = 224;
    info_.stages = static_cast<int64_t>(stage_ends_.size());
    info_.mean = {0.485, 0.456, 0.406}, info_.std = {0.229, 0.224, 0.225};
  }
};
}  // namespace

LOOKALIKE_REGISTER(backbone_registry(), "mobilenet_v2",
                   [](const nlohmann::json& options) -> std::shared_ptr<Backbone> {
                     MobileNetV2Options o;
                     util::options_from_json(options, o, "mobilenet_v2");
                     return std::make_shared<MobileNetV2>(o);
                   })

}  // namespace lookalike::models
