#include "lookalike/models/convnet.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::models {

void validate(const ConvNetOptions& o) {
  LOOKALIKE_CHECK_ARG(o.in_channels > 0, "in_channels must be positive, got ", o.in_channels);
  LOOKALIKE_CHECK_ARG(!o.channels.empty(), "channels must name at least one stage");
  for (int c : o.channels) LOOKALIKE_CHECK_ARG(c > 0, "channels must be positive, got ", c);
  LOOKALIKE_CHECK_ARG(o.blocks_per_stage > 0, "blocks_per_stage must be positive, got ",
                      o.blocks_per_stage);
  LOOKALIKE_CHECK_ARG(o.embedding_dim > 0, "embedding_dim must be positive, got ", o.embedding_dim);
  LOOKALIKE_CHECK_ARG(o.num_classes > 0, "num_classes must be positive, got ", o.num_classes);
  LOOKALIKE_CHECK_ARG(o.dropout >= 0.0 && o.dropout < 1.0, "dropout must be in [0, 1), got ",
                      o.dropout);
}

torch::nn::Sequential convnet_stages(int in_channels, const std::vector<int>& channels,
                                     int blocks_per_stage, std::vector<int64_t>* stage_ends) {
  namespace nn = torch::nn;
  nn::Sequential seq;
  int in = in_channels;
  for (size_t s = 0; s < channels.size(); ++s) {
    const int out = channels[s];
    for (int b = 0; b < blocks_per_stage; ++b) {
      seq->push_back(
          nn::Conv2d(nn::Conv2dOptions(b == 0 ? in : out, out, 3).padding(1).bias(false)));
      seq->push_back(nn::BatchNorm2d(out));
      seq->push_back(nn::ReLU(nn::ReLUOptions(true)));
    }
    if (s + 1 < channels.size()) seq->push_back(nn::MaxPool2d(2));
    if (stage_ends) stage_ends->push_back(static_cast<int64_t>(seq->size()));
    in = out;
  }
  return seq;
}

ConvNetImpl::ConvNetImpl(ConvNetOptions options) : options_(std::move(options)) {
  validate(options_);
  namespace nn = torch::nn;
  nn::Sequential seq =
      convnet_stages(options_.in_channels, options_.channels, options_.blocks_per_stage);
  const int in = options_.channels.back();
  seq->push_back(nn::AdaptiveAvgPool2d(1));
  seq->push_back(nn::Flatten());
  features_ = register_module("features", seq);
  embed_ = register_module("embed", nn::Linear(in, options_.embedding_dim));
  embed_bn_ = register_module("embed_bn", nn::BatchNorm1d(options_.embedding_dim));
  dropout_ = register_module("dropout", nn::Dropout(options_.dropout));
  head_ = register_module("head", nn::Linear(options_.embedding_dim, options_.num_classes));
  for (auto& m : modules(false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
  }
  mean_ = register_buffer("input_mean", torch::full({options_.in_channels}, 0.5));
  std_ = register_buffer("input_std", torch::full({options_.in_channels}, 0.25));
}

void ConvNetImpl::set_normalization(const torch::Tensor& mean, const torch::Tensor& std) {
  LOOKALIKE_CHECK_ARG(mean.numel() == options_.in_channels && std.numel() == options_.in_channels,
                      "normalisation needs ", options_.in_channels, " means and stds");
  LOOKALIKE_CHECK_ARG((std > 0).all().item<bool>(), "normalisation stds must be positive");
  torch::NoGradGuard guard;
  mean_.copy_(mean.reshape({-1}));
  std_.copy_(std.reshape({-1}));
}

ConvNetOutput ConvNetImpl::forward(const torch::Tensor& x) {
  LOOKALIKE_CHECK_ARG(x.dim() == 4 && x.size(1) == options_.in_channels, "ConvNet expects [B, ",
                      options_.in_channels, ", H, W] input, got ", x.sizes());
  auto z = (x - mean_.view({1, -1, 1, 1})) / std_.view({1, -1, 1, 1});
  auto feat = features_->forward(z);
  auto emb = embed_bn_->forward(embed_->forward(feat));
  auto logits = head_->forward(dropout_->forward(torch::relu(emb)));
  return {logits, emb};
}

}  // namespace lookalike::models
