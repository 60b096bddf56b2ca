// "convnet": stages of conv3x3-BN-ReLU blocks with 2x2 max-pooling between stages (the Net's
// default backbone).
#include <torch/torch.h>

#include "layers.h"
#include "lookalike/error.h"
#include "lookalike/models/backbone.h"

namespace lookalike::models {
namespace {

// Per entry of `channels`, blocks_per_stage conv3x3-BN-ReLU blocks, with 2x2 max-pooling
// between stages; [B, in_channels, H, W] -> [B, channels.back(), H / 2^(S-1), W / 2^(S-1)].
// stage_ends: the module index one past each stage.
torch::nn::Sequential convnet_stages(int in_channels, const std::vector<int>& channels,
                                     int blocks_per_stage, std::vector<int64_t>& stage_ends) {
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
    stage_ends.push_back(static_cast<int64_t>(seq->size()));
    in = out;
  }
  return seq;
}

struct ConvNetBackboneOptions {
  int in_channels = 3;
  std::vector<int> channels = {32, 64, 128};  // one stage per entry
  int blocks_per_stage = 1;
};
LOOKALIKE_OPTIONS(ConvNetBackboneOptions, in_channels, channels, blocks_per_stage)

class ConvNetBackbone final : public detail::SequentialBackbone {
 public:
  explicit ConvNetBackbone(const ConvNetBackboneOptions& o)
      : SequentialBackbone("convnet", o.in_channels) {
    LOOKALIKE_CHECK_ARG(o.in_channels > 0 && !o.channels.empty() && o.blocks_per_stage > 0,
                        "convnet: in_channels, channels (at least one stage) and "
                        "blocks_per_stage must be positive");
    for (int c : o.channels) LOOKALIKE_CHECK_ARG(c > 0, "convnet: channels must be positive");
    features_ = register_module(
        "features", convnet_stages(o.in_channels, o.channels, o.blocks_per_stage, stage_ends_));
    for (auto& m : modules(false))
      if (auto* conv = m->as<torch::nn::Conv2d>())
        torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    info_.channels = o.channels.back();
    info_.stride = int64_t{1} << (o.channels.size() - 1);
    info_.min_input = info_.stride;
    info_.input_size = 64;
    info_.stages = static_cast<int64_t>(o.channels.size());
    info_.mean.assign(static_cast<size_t>(o.in_channels), 0.5);
    info_.std.assign(static_cast<size_t>(o.in_channels), 0.25);
  }
};
}  // namespace

LOOKALIKE_REGISTER(backbone_registry(), "convnet",
                   [](const nlohmann::json& options) -> std::shared_ptr<Backbone> {
                     ConvNetBackboneOptions o;
                     util::options_from_json(options, o, "convnet");
                     return std::make_shared<ConvNetBackbone>(o);
                   })

}  // namespace lookalike::models
