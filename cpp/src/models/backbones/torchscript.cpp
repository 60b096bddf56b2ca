// "torchscript": any module a user exported from Python (torch.jit.trace / torch.jit.script,
// then .save) used as a backbone. Its forward takes float [B, C, H, W] and returns a feature map
// [B, C', h, w] (or an embedding [B, D], taken as a 1 x 1 map). Its parameters and buffers are
// registered here, so the optimizer, freezing, checkpoints and device moves reach them.
#include <torch/script.h>
#include <torch/torch.h>

#include "layers.h"
#include "lookalike/error.h"
#include "lookalike/models/backbone.h"
#include "lookalike/util/files.h"

namespace lookalike::models {
namespace {

struct TorchScriptOptions {
  int64_t in_channels = 3;
  std::string path;          // the saved module (NetOptions::weights)
  int64_t input_size = 224;  // the side the module is probed with (stride, channels)
};
LOOKALIKE_OPTIONS(TorchScriptOptions, in_channels, path, input_size)

// Module names may not contain dots: "layer1.0.conv1.weight" -> "layer1_0_conv1_weight".
std::string flat_name(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

class TorchScriptBackbone final : public Backbone {
 public:
  explicit TorchScriptBackbone(const TorchScriptOptions& o) : in_channels_(o.in_channels) {
    LOOKALIKE_CHECK_ARG(!o.path.empty(),
                        "torchscript backbone: weights must name the module "
                        "file saved by torch.jit.save");
    LOOKALIKE_CHECK_FILE(util::file_exists(o.path), "TorchScript file '", o.path,
                         "' does not exist");
    LOOKALIKE_CHECK_ARG(o.in_channels > 0 && o.input_size > 0,
                        "torchscript: in_channels and input_size must be positive");
    try {
      module_ = torch::jit::load(o.path, torch::kCPU);
    } catch (const c10::Error& e) {
      throw FileError(::lookalike::detail::concat(
          "'", o.path,
          "' is not a TorchScript module (torch.jit.save): ", e.what_without_backtrace()));
    }
    for (const auto& p : module_.named_parameters(/*recurse=*/true))
      register_parameter(flat_name(p.name), p.value, p.value.requires_grad());
    for (const auto& b : module_.named_buffers(/*recurse=*/true))
      register_buffer(flat_name(b.name), b.value);
    probe(o);
  }
  torch::Tensor features(const torch::Tensor& x) override {
    check_input(x, in_channels_, "torchscript");
    auto out = module_.forward({x});
    LOOKALIKE_CHECK_ARG(out.isTensor(), "torchscript: the module must return one tensor");
    auto t = out.toTensor();
    return t.dim() == 2 ? t.unsqueeze(-1).unsqueeze(-1) : t;
  }
  const BackboneInfo& info() const override { return info_; }
  std::vector<std::shared_ptr<torch::nn::Module>> stage(int64_t i) override {
    LOOKALIKE_CHECK_ARG(i == 0, "torchscript: one stage (the whole module), asked for ", i);
    return {shared_from_this()};
  }
  void train(bool on = true) override {
    torch::nn::Module::train(on);
    module_.train(on);
  }

 private:
  // Channels and stride from one forward pass of zeros at input_size.
  void probe(const TorchScriptOptions& o) {
    torch::NoGradGuard no_grad;
    module_.eval();
    torch::Tensor y;
    try {
      auto out = module_.forward({torch::zeros({1, o.in_channels, o.input_size, o.input_size})});
      LOOKALIKE_CHECK_ARG(out.isTensor(), "torchscript: the module must return one tensor");
      y = out.toTensor();
    } catch (const c10::Error& e) {
      throw InvalidArgument(::lookalike::detail::concat(
          "torchscript: '", o.path, "' fails on a [1, ", o.in_channels, ", ", o.input_size, ", ",
          o.input_size, "] input: ", e.what_without_backtrace()));
    }
    LOOKALIKE_CHECK_ARG(y.dim() == 4 || y.dim() == 2, "torchscript: '", o.path, "' returns ",
                        y.sizes(), "; a backbone returns [B, C, h, w] or [B, D]");
    module_.train();
    info_.channels = y.size(1);
    info_.stride = y.dim() == 4 ? std::max<int64_t>(1, o.input_size / y.size(2)) : o.input_size;
    info_.min_input = 1;
    info_.input_size = o.input_size;
    info_.stages = 1;
    if (o.in_channels == 3)  // what exported vision models expect; normalization "data" to refit
      info_.mean = {0.485, 0.456, 0.406}, info_.std = {0.229, 0.224, 0.225};
  }

  int64_t in_channels_;
  torch::jit::Module module_;
  BackboneInfo info_;
};
}  // namespace

LOOKALIKE_REGISTER(backbone_registry(), "torchscript",
                   [](const nlohmann::json& options) -> std::shared_ptr<Backbone> {
                     TorchScriptOptions o;
                     util::options_from_json(options, o, "torchscript");
                     return std::make_shared<TorchScriptBackbone>(o);
                   })

}  // namespace lookalike::models
