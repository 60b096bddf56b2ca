#include "lookalike/models/net.h"

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/models/pretrained.h"

namespace lookalike::models {

namespace {
const NetOptions kDefaults{};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void validate(const NetOptions& o) {
  LOOKALIKE_CHECK_ARG(backbone_registry().contains(o.backbone), "unknown backbone '", o.backbone,
                      "'; known: ", util::join_names(backbones()));
  LOOKALIKE_CHECK_ARG(o.in_channels >= 0, "in_channels must be >= 0, got ", o.in_channels);
  LOOKALIKE_CHECK_ARG(o.backbone != "torchscript" || !o.weights.empty(),
                      "the torchscript backbone needs weights: the file torch.jit.save wrote");
  LOOKALIKE_CHECK_ARG(
      o.backbone == "convnet" ||
          (o.channels == kDefaults.channels && o.blocks_per_stage == kDefaults.blocks_per_stage),
      "channels and blocks_per_stage apply to the convnet backbone only, not '", o.backbone, "'");
  LOOKALIKE_CHECK_ARG(o.backbone == "mobilenet_v2" || o.width_mult == kDefaults.width_mult,
                      "width_mult applies to the mobilenet_v2 backbone only, not '", o.backbone,
                      "'");
  LOOKALIKE_CHECK_ARG(!o.channels.empty(), "channels must name at least one stage");
  for (int c : o.channels) LOOKALIKE_CHECK_ARG(c > 0, "channels must be positive, got ", c);
  LOOKALIKE_CHECK_ARG(o.blocks_per_stage > 0, "blocks_per_stage must be positive, got ",
                      o.blocks_per_stage);
  LOOKALIKE_CHECK_ARG(o.width_mult > 0, "width_mult must be positive, got ", o.width_mult);
  LOOKALIKE_CHECK_ARG(
      o.normalization == "auto" || o.normalization == "data" || o.normalization == "backbone",
      "normalization must be 'auto', 'data' or 'backbone', got '", o.normalization, "'");
  LOOKALIKE_CHECK_ARG(o.input_size >= 0, "input_size must be >= 0, got ", o.input_size);
  LOOKALIKE_CHECK_ARG(o.pooling == "avg" || o.pooling == "gem",
                      "pooling must be 'avg' or 'gem', got '", o.pooling, "'");
  LOOKALIKE_CHECK_ARG(o.gem_p > 0, "gem_p must be positive, got ", o.gem_p);
  LOOKALIKE_CHECK_ARG(o.embedding_dim >= 0, "embedding_dim must be >= 0, got ", o.embedding_dim);
  LOOKALIKE_CHECK_ARG(o.num_classes >= 0, "num_classes must be >= 0, got ", o.num_classes);
  LOOKALIKE_CHECK_ARG(o.dropout >= 0.0 && o.dropout < 1.0, "dropout must be in [0, 1), got ",
                      o.dropout);
  LOOKALIKE_CHECK_ARG(o.memory_format == "channels_last" || o.memory_format == "contiguous",
                      "memory_format must be 'channels_last' or 'contiguous', got '",
                      o.memory_format, "'");
}

namespace {
// The layout 4-D tensors of the network take (Preserve: leave them as they are).
torch::MemoryFormat memory_format_of(const NetOptions& o) {
  if (o.backbone == "torchscript") return torch::MemoryFormat::Preserve;
  return o.memory_format == "channels_last" ? torch::MemoryFormat::ChannelsLast
                                            : torch::MemoryFormat::Contiguous;
}
}  // namespace

nlohmann::json backbone_options(const NetOptions& o) {
  nlohmann::json j{{"in_channels", o.in_channels}};
  if (o.backbone == "convnet") {
    j["channels"] = o.channels;
    j["blocks_per_stage"] = o.blocks_per_stage;
  } else if (o.backbone == "torchscript") {  // the module file is the weights
    j["path"] = resolve_weights_path(o.weights);
    j["input_size"] = o.input_size > 0 ? o.input_size : 224;
  } else if (o.backbone == "mobilenet_v2") {
    j["width_mult"] = o.width_mult;
    // TensorFlow-trained weights expect TF "same" padding (resnet8 always has it).
    if (ends_with(o.weights, ".tflite") || ends_with(o.weights, ".h5")) j["padding"] = "tf";
  }
  return j;
}

bool uses_data_normalization(const NetOptions& o) {
  return o.normalization == "data" || (o.normalization == "auto" && o.weights.empty());
}

NetImpl::NetImpl(NetOptions options) : options_(std::move(options)) {
  validate(options_);
  LOOKALIKE_CHECK_ARG(options_.in_channels > 0, "in_channels must be positive to build a network");
  backbone_ =
      register_module("backbone", make_backbone(options_.backbone, backbone_options(options_)));
  const BackboneInfo& info = backbone_->info();
  EmbeddingHeadOptions h;
  h.pooling = options_.pooling;
  h.gem_p = options_.gem_p;
  h.dim = options_.embedding_dim;
  h.batch_norm = options_.embedding_dim > 0;
  h.normalize = false;
  head_ = register_module("head", EmbeddingHead(info.channels, h));
  dropout_ = register_module("dropout", torch::nn::Dropout(options_.dropout));
  if (options_.num_classes > 0)
    classifier_ =
        register_module("classifier", torch::nn::Linear(head_->dim(), options_.num_classes));
  auto stats = [&](const std::vector<double>& v, double fallback) {
    return v.size() == static_cast<size_t>(options_.in_channels)
               ? torch::tensor(v, torch::kFloat)
               : torch::full({options_.in_channels}, fallback);
  };
  mean_ = register_buffer("input_mean", stats(info.mean, 0.5));
  std_ = register_buffer("input_std", stats(info.std, 0.25));
  apply_memory_format();
}

void NetImpl::apply_memory_format() {
  const auto format = memory_format_of(options_);
  if (format == torch::MemoryFormat::Preserve) return;
  torch::NoGradGuard no_grad;
  for (auto& p : backbone_->parameters())
    if (p.dim() == 4 && !p.is_contiguous(format)) p.set_data(p.contiguous(format));
}

void NetImpl::set_normalization(const torch::Tensor& mean, const torch::Tensor& std) {
  LOOKALIKE_CHECK_ARG(mean.numel() == options_.in_channels && std.numel() == options_.in_channels,
                      "normalisation needs ", options_.in_channels, " means and stds");
  LOOKALIKE_CHECK_ARG((std > 0).all().item<bool>(), "normalisation stds must be positive");
  torch::NoGradGuard guard;
  mean_.copy_(mean.reshape({-1}));
  std_.copy_(std.reshape({-1}));
}

torch::Tensor NetImpl::feature_map(const torch::Tensor& x) { return features(x).contiguous(); }

torch::Tensor NetImpl::features(const torch::Tensor& x) {
  LOOKALIKE_CHECK_ARG(x.dim() == 4 && x.size(1) == options_.in_channels && x.is_floating_point(),
                      "the network expects float [B, ", options_.in_channels, ", H, W] input, got ",
                      x.sizes(), " ", x.scalar_type());
  auto z = x;
  if (options_.input_size > 0 &&
      (x.size(2) != options_.input_size || x.size(3) != options_.input_size)) {
    namespace F = torch::nn::functional;
    z = F::interpolate(z, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{options_.input_size, options_.input_size})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  }
  z = (z - mean_.view({1, -1, 1, 1})) / std_.view({1, -1, 1, 1});
  const auto format = memory_format_of(options_);
  // With one channel, NCHW strides also pass as channels-last, and convolutions would then
  // answer in NCHW: the strides are made explicit (stride 1 over channels).
  if (format == torch::MemoryFormat::ChannelsLast && (z.stride(1) != 1 || !z.is_contiguous(format)))
    z = torch::empty_like(z, z.options().memory_format(format)).copy_(z);
  else if (format == torch::MemoryFormat::Contiguous)
    z = z.contiguous();
  return backbone_->features(z);
}

NetOutput NetImpl::forward(const torch::Tensor& x) { return forward_features(features(x)); }

NetOutput NetImpl::forward_features(const torch::Tensor& feature_map) {
  auto emb = head_->forward(feature_map);
  torch::Tensor logits;
  if (classifier_) logits = classifier_->forward(dropout_->forward(torch::relu(emb)));
  return {logits, emb};
}

void NetImpl::freeze_stages(int64_t n) {
  const int64_t stages = backbone_->info().stages;
  LOOKALIKE_CHECK_ARG(n >= -1 && n <= stages, "freeze_stages: the ", options_.backbone,
                      " backbone has ", stages, " stages; got ", n, " (-1: all)");
  frozen_ = n < 0 ? stages : n;
  for (auto& p : backbone_->parameters()) p.set_requires_grad(true);
  for (int64_t i = 0; i < frozen_; ++i)
    for (auto& m : backbone_->stage(i))
      for (auto& p : m->parameters()) p.set_requires_grad(false);
  train(is_training());
}

void NetImpl::freeze_batch_norm(bool on) {
  bn_frozen_ = on;
  train(is_training());
}

void NetImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!on) return;
  // Frozen stages run in eval mode: batch norm keeps its running statistics.
  for (int64_t i = 0; i < frozen_; ++i)
    for (auto& m : backbone_->stage(i)) m->train(false);
  if (bn_frozen_)
    for (auto& m : backbone_->modules(/*include_self=*/false))
      if (m->as<torch::nn::BatchNorm2d>() || m->as<torch::nn::BatchNorm1d>()) m->train(false);
}

std::vector<torch::Tensor> NetImpl::backbone_parameters() { return backbone_->parameters(); }

std::vector<torch::Tensor> NetImpl::head_parameters() {
  auto params = head_->parameters();
  if (classifier_)
    for (auto& p : classifier_->parameters()) params.push_back(p);
  return params;
}

Net make_net(const NetOptions& options) {
  Net net(options);
  if (!options.weights.empty() && options.backbone != "torchscript")
    load_pretrained(*net, options.weights);
  return net;
}

}  // namespace lookalike::models
