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

torch::Tensor SameConv2dImpl::conv(const torch::Tensor& x, int64_t padding) const {
  namespace F = torch::nn::functional;
  return F::conv2d(
      x, weight,
      F::Conv2dFuncOptions().bias(bias).stride(spec_.stride).padding(padding).groups(spec_.groups));
}

torch::Tensor SameConv2dImpl::forward(const torch::Tensor& x) {
  if (spec_.padding == "torch") return conv(x, spec_.kernel / 2);
  // TensorFlow "same": output side ceil(in / stride); the odd padding row/column goes last.
  std::vector<int64_t> pad;  // (left, right, top, bottom)
  for (int64_t dim : {3, 2}) {
    const int64_t in = x.size(dim), out = (in + spec_.stride - 1) / spec_.stride;
    const int64_t total = std::max<int64_t>((out - 1) * spec_.stride + spec_.kernel - in, 0);
    pad.push_back(total / 2);
    pad.push_back(total - total / 2);
  }
  return conv(torch::constant_pad_nd(x, pad), 0);
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
