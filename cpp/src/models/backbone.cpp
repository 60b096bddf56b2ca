#include "lookalike/models/backbone.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::models {

util::Registry<BackboneFactory>& backbone_registry() {
  static util::Registry<BackboneFactory> table("backbone");
  return table;
}

std::vector<std::string> backbones() { return backbone_registry().names(); }

std::shared_ptr<Backbone> make_backbone(const std::string& name, const nlohmann::json& options) {
  LOOKALIKE_CHECK_ARG(options.is_object() || options.is_null(), "backbone '", name,
                      "': options must be a mapping");
  return backbone_registry().get(name)(options.is_null() ? nlohmann::json::object() : options);
}

void Backbone::check_input(const torch::Tensor& x, int64_t in_channels,
                           const std::string& name) const {
  LOOKALIKE_CHECK_ARG(x.dim() == 4 && x.size(1) == in_channels && x.is_floating_point(),
                      "backbone '", name, "' expects float [B, ", in_channels,
                      ", H, W] input, got ", x.sizes(), " ", x.scalar_type());
  const int64_t m = info().min_input;
  LOOKALIKE_CHECK_ARG(x.size(2) >= m && x.size(3) >= m, "backbone '", name,
                      "' needs images of at least ", m, " x ", m, " pixels, got ", x.size(2), " x ",
                      x.size(3));
}

std::vector<std::shared_ptr<torch::nn::Module>> Backbone::stage_of(const torch::nn::Sequential& seq,
                                                                   const std::vector<int64_t>& ends,
                                                                   int64_t i,
                                                                   const std::string& name) const {
  const int64_t stages = static_cast<int64_t>(ends.size());
  LOOKALIKE_CHECK_ARG(i >= 0 && i < stages, name, ": stage ", i, " outside [0, ", stages, ")");
  std::vector<std::shared_ptr<torch::nn::Module>> out;
  for (int64_t j = i == 0 ? 0 : ends[static_cast<size_t>(i - 1)]; j < ends[static_cast<size_t>(i)];
       ++j)
    out.push_back(seq->ptr(static_cast<size_t>(j)));
  return out;
}

}  // namespace lookalike::models
