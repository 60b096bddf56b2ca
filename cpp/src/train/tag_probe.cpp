#include "lookalike/train/tag_probe.h"

#include <chrono>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "train_linear.h"

namespace lookalike::train {

torch::Tensor TagProbe::scores(const torch::Tensor& features) const {
  LOOKALIKE_CHECK_ARG(features.defined() && features.dim() == 2 &&
                          features.size(1) == weight.size(1) && features.is_floating_point(),
                      "TagProbe.scores: features must be float [N, ", weight.size(1), "], got ",
                      features.defined() ? features.sizes() : c10::IntArrayRef{});
  const c10::InferenceMode inference;
  const auto x = (features.to(torch::kFloat) - mean) / std;
  return tag_probabilities(torch::addmm(bias, x, weight.t()), families);
}

TagProbe fit_tag_probe(const torch::Tensor& features, const torch::Tensor& targets,
                       const std::vector<std::string>& tags, const TagHeadOptions& head_options,
                       const ProbeOptions& options, util::Record* record) {
  validate(options);
  static const ProbeOptions defaults;
  LOOKALIKE_CHECK_ARG(
      options.pos_weight == defaults.pos_weight && options.loss.name == defaults.loss.name,
      "fit_tag_probe: the loss and positive weights are the tag heads' "
      "(tag_loss, tag_pos_weight); leave the probe's pos_weight and loss alone");
  LOOKALIKE_CHECK_ARG(features.defined() && features.dim() == 2 && features.size(0) > 0 &&
                          features.is_floating_point(),
                      "fit_tag_probe: features must be float [N, D] with N > 0, got ",
                      features.defined() ? features.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(torch::isfinite(features).all().item<bool>(),
                      "fit_tag_probe: features contain NaN or infinite values");
  LOOKALIKE_CHECK_ARG(
      targets.defined() && targets.dim() == 2 && targets.size(0) == features.size(0),
      "fit_tag_probe: targets must have one row per feature row (", features.size(0), ")");
  const auto start = std::chrono::steady_clock::now();
  const TagHeads heads(tags, head_options, targets, "fit_tag_probe targets");
  const auto x = features.to(torch::kFloat);
  TagProbe probe;
  probe.mean = x.mean(0);
  probe.std = x.std(0, /*unbiased=*/false).clamp_min(1e-6);
  probe.families = heads.families();
  const auto z = (x - probe.mean) / probe.std;
  const auto y = targets.to(torch::kFloat);
  probe.weight = torch::zeros({heads.size(), x.size(1)});
  probe.bias = torch::zeros({heads.size()});
  const double loss =
      detail::train_linear(z, probe.weight, probe.bias, options,
                           [&](const torch::Tensor& logits, const torch::Tensor& rows) {
                             return heads.loss(logits, y.index_select(0, rows));
                           });
  probe.weight = probe.weight.detach().set_requires_grad(false);
  probe.bias = probe.bias.detach().set_requires_grad(false);
  if (record) {
    (*record)["loss"] = loss;
    (*record)["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return probe;
}

}  // namespace lookalike::train
