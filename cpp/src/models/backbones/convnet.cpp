// "convnet": the ConvNet's conv3x3-BN-ReLU stages (models::convnet_stages) as a backbone.
#include <torch/torch.h>

#include "layers.h"
#include "lookalike/error.h"
#include "lookalike/models/backbone.h"
#include "lookalike/models/convnet.h"

namespace lookalike::models {
namespace {

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
        "features", convnet_stages(o.in_channels, o.channels, o.blocks_per_stage, &stage_ends_));
    for (auto& m : modules(false))
      if (auto* conv = m->as<torch::nn::Conv2d>())
        torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    info_.channels = o.channels.back();
    info_.stride = int64_t{1} << (o.channels.size() - 1);
    info_.min_input = info_.stride;
    info_.input_size = 64;
    info_.stages = static_cast<int64_t>(o.channels.size());
    info_.mean.assign(static_cast<size_t>(o.in_channels), 0.5);  // the ConvNet's defaults
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
