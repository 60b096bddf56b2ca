#include "layers.h"

#include "lookalike/error.h"

namespace lookalike::models::detail {

SameConv2dImpl::SameConv2dImpl(const ConvSpec& spec) : spec_(spec) {
  LOOKALIKE_CHECK_ARG(spec.kernel % 2 == 1 && spec.in % spec.groups == 0 &&
                          spec.out % spec.groups == 0 && spec.stride >= 1,
                      "conv: odd kernel, channels divisible by groups and stride >= 1 needed");
  LOOKALIKE_CHECK_ARG(spec.padding == "torch" || spec.padding == "tf",
                      "conv: padding must be torch or tf, got '", spec.padding, "'");
  weight = register_parameter(
      "weight", torch::empty({spec.out, spec.in / spec.groups, spec.kernel, spec.kernel}));
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  if (spec.bias) bias = register_parameter("bias", torch::zeros({spec.out}));
}

torch::Tensor SameConv2dImpl::conv(const torch::Tensor& x, const torch::Tensor& w,
                                   std::vector<int64_t> padding) const {
  return torch::conv2d(x, w, bias, spec_.stride, padding, /*dilation=*/1, spec_.groups);
}

torch::Tensor SameConv2dImpl::forward(const torch::Tensor& x) {
  if (spec_.padding == "torch") return conv(x, weight, {spec_.kernel / 2, spec_.kernel / 2});
  // TensorFlow "same": output side ceil(in / stride); the odd padding row/column goes last.
  int64_t before[2], after[2];  // (rows, columns)
  for (int64_t d = 0; d < 2; ++d) {
    const int64_t in = x.size(2 + d), out = (in + spec_.stride - 1) / spec_.stride;
    const int64_t total = std::max<int64_t>((out - 1) * spec_.stride + spec_.kernel - in, 0);
    before[d] = total / 2, after[d] = total - total / 2;
  }
  // Even padding is the convolution's own (no padded copy of the input).
  if (before[0] == after[0] && before[1] == after[1])
    return conv(x, weight, {before[0], before[1]});
  // Odd (a stride-2 convolution over an even side: one zero row/column after, none before):
  // for a depthwise convolution, the kernel padded by one zero row/column before and the
  // convolution's own padding of one both sides compute exactly that, without a padded copy of
  // the activations (which in channels-last costs more than the convolution). A full
  // convolution, whose input is small (the stem), pads the input.
  if (spec_.groups > 1 && before[0] + 1 == after[0] && before[1] + 1 == after[1]) {
    auto k = torch::constant_pad_nd(weight, {1, 0, 1, 0});
    return conv(x, k.contiguous(weight.suggest_memory_format()), {after[0], after[1]});
  }
  return conv(torch::constant_pad_nd(x, {before[1], after[1], before[0], after[0]}), weight,
              {0, 0});
}

ConvBNAct conv_bn(const ConvSpec& spec, const std::string& activation, double bn_eps) {
  ConvBNAct seq;
  seq->push_back(SameConv2d(spec));
  seq->push_back(torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(spec.out).eps(bn_eps)));
  if (activation == "relu")
    seq->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  else if (activation == "relu6")
    seq->push_back(torch::nn::ReLU6(torch::nn::ReLU6Options(true)));
  else
    LOOKALIKE_CHECK_ARG(activation == "none", "conv_bn: unknown activation '", activation, "'");
  return seq;
}

}  // namespace lookalike::models::detail
