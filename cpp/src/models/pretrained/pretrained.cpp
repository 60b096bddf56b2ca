#include "lookalike/models/pretrained.h"

#include <fstream>

#include <torch/torch.h>

#include "lookalike/data/data_dir.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "plan.h"

namespace lookalike::models {

namespace detail {

BackboneLayers backbone_layers(NetImpl& net) {
  BackboneLayers out;
  bool awaiting_bn = false;  // the last convolution has no batch norm yet
  for (const auto& item : net.backbone().named_modules("", /*include_self=*/false)) {
    auto& module = *item.value();
    if (auto* bn = module.as<torch::nn::BatchNorm2d>()) {
      out.bns.emplace_back(item.key(), bn);
      if (awaiting_bn) out.convs.back().bn = bn, out.convs.back().bn_name = item.key();
      awaiting_bn = false;
      continue;
    }
    const auto params = module.named_parameters(/*recurse=*/false);
    const auto* weight = params.find("weight");
    if (!weight || weight->dim() != 4) continue;
    ConvLayer conv;
    conv.name = item.key();
    conv.weight = *weight;
    if (const auto* bias = params.find("bias"); bias && bias->defined()) conv.bias = *bias;
    out.convs.push_back(conv);
    awaiting_bn = true;
  }
  return out;
}

void LoadPlan::write(const std::string& name, const torch::Tensor& target,
                     const torch::Tensor& value, const std::string& what) {
  LOOKALIKE_CHECK_ARG(target.sizes() == value.sizes(), "'", path_, "': ", what, " has shape ",
                      value.sizes(), " but the network's ", name, " is ", target.sizes());
  LOOKALIKE_CHECK_ARG(torch::isfinite(value).all().item<bool>(), "'", path_, "': ", what,
                      " holds NaN or infinite values");
  writes_.push_back({name, target, value.detach().to(target.scalar_type()).contiguous()});
}

void LoadPlan::identity_bn(const std::string& name, torch::nn::BatchNorm2dImpl& bn,
                           const torch::Tensor& bias, const std::string& what) {
  const double eps = bn.options.eps();
  write(name + ".weight", bn.weight, torch::ones_like(bn.weight), what);
  write(name + ".bias", bn.bias, bias, what + " (bias)");
  write(name + ".running_mean", bn.running_mean, torch::zeros_like(bn.running_mean), what);
  // (x - 0) / sqrt(var + eps) = x exactly when var = 1 - eps.
  write(name + ".running_var", bn.running_var, torch::full_like(bn.running_var, 1.0 - eps), what);
}

void LoadPlan::classifier(NetImpl& net, const torch::Tensor& weight, const torch::Tensor& bias,
                          const std::string& what) {
  auto head = net.classifier();
  if (head && head->weight.sizes() == weight.sizes()) {
    write("classifier.weight", head->weight, weight, what);
    if (bias.defined()) write("classifier.bias", head->bias, bias, what + " (bias)");
    return;
  }
  std::ostringstream why;
  why << "classifier " << what << ": the file has " << weight.sizes() << ", the network "
      << (head ? "has " : "has none");
  if (head) why << head->weight.sizes();
  skip(why.str());
}

PretrainedReport LoadPlan::apply(NetImpl& net, const std::string& format) const {
  PretrainedReport report;
  report.format = format;
  report.skipped = skipped_;
  torch::NoGradGuard no_grad;
  for (const auto& w : writes_) w.target.copy_(w.value);
  report.tensors_loaded = static_cast<int64_t>(writes_.size());
  if (mean_.defined() && !uses_data_normalization(net.options()) &&
      mean_.numel() == net.options().in_channels)
    net.set_normalization(mean_, std_);
  return report;
}

}  // namespace detail

std::string resolve_weights_path(const std::string& weights) {
  const std::string tag = "{pretrained}/";
  if (weights.compare(0, tag.size(), tag) != 0) return weights;
  const std::string folder = data::shared_data_dir("pretrained");
  LOOKALIKE_CHECK_FILE(!folder.empty(), "weights '", weights,
                       "': the shared pretrained folder was not found (set LOOKALIKE_DATA to the "
                       "folder holding pretrained/)");
  return util::join_path(folder, weights.substr(tag.size()));
}

namespace {
// The format named by a file's first bytes (at least 8 when the file has them).
std::string format_of(const std::string& head) {
  if (head.size() >= 8 && head.compare(4, 4, "TFL3") == 0) return "tflite";
  if (head.size() >= 8 && head == std::string("\x89HDF\r\n\x1a\n", 8)) return "keras_h5";
  if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04") == 0) return "state_dict";
  return "";
}
}  // namespace

std::string weights_format(const std::string& weights) {
  const std::string path = resolve_weights_path(weights);
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "weights file '", path, "' does not exist");
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  return format_of(std::string(head, static_cast<size_t>(in.gcount())));
}

PretrainedReport load_pretrained(NetImpl& net, const std::string& weights) {
  const std::string path = resolve_weights_path(weights);
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "weights file '", path, "' does not exist");
  // What a corrupt file makes the format's library throw (torch's unpickler, HDF5, FlatBuffers)
  // reaches the caller as a FileError naming it (found by fuzzing: std::out_of_range escaped).
  return guard_file_read(path, "weights file", [&] {
    const std::string content = util::read_file(path);
    const std::vector<char> bytes(content.begin(), content.end());
    const std::string format = format_of(content.substr(0, 8));  // the file is read once
    detail::LoadPlan plan(path);
    if (format == "tflite") {
      detail::plan_tflite(net, bytes, plan);
    } else if (format == "keras_h5") {
      detail::plan_keras_h5(net, plan);
    } else if (format == "state_dict") {
      detail::plan_state_dict(net, bytes, plan);
    } else {
      throw FileError(::lookalike::detail::concat(
          "weights file '", path,
          "' is none of the formats read: a TFLite FlatBuffer, a Keras HDF5 file or a PyTorch "
          "state_dict written by torch.save (zip)"));
    }
    return plan.apply(net, format);
  });
}

}  // namespace lookalike::models
