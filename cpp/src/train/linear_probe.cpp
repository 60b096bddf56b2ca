#include "lookalike/train/linear_probe.h"

#include <chrono>
#include <functional>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/device.h"
#include "lookalike/util/rng.h"
#include "train_linear.h"

namespace lookalike::train {
namespace {

// Checks the targets against K outputs and N rows; true when they are multi-label.
bool check_targets(const torch::Tensor& targets, int64_t n, int64_t k) {
  LOOKALIKE_CHECK_ARG(
      targets.defined() && targets.size(0) == n &&
          ((targets.dim() == 1 && targets.scalar_type() == torch::kLong) ||
           (targets.dim() == 2 && targets.size(1) == k && targets.is_floating_point())),
      "fit_linear_probe: targets must be int64 [", n, "] (one class each) or float [", n, ", ", k,
      "] (0/1 per tag), got ", targets.defined() ? targets.sizes() : c10::IntArrayRef{}, " ",
      targets.defined() ? targets.scalar_type() : torch::kLong);
  if (targets.dim() == 1) {
    LOOKALIKE_CHECK_ARG(targets.min().item<int64_t>() >= 0 && targets.max().item<int64_t>() < k,
                        "fit_linear_probe: classes must lie in [0, ", k, ")");
    return false;
  }
  LOOKALIKE_CHECK_ARG((targets == 0).logical_or(targets == 1).all().item<bool>(),
                      "fit_linear_probe: multi-label targets must be 0 or 1");
  return true;
}

}  // namespace

namespace detail {

double train_linear(const torch::Tensor& x, torch::Tensor weight, torch::Tensor bias,
                    const ProbeOptions& options, const LinearLoss& loss_of) {
  {
    torch::NoGradGuard no_grad;
    weight.zero_();
    bias.zero_();
  }
  std::vector<torch::Tensor> params = {weight, bias};
  for (auto& p : params) p.set_requires_grad(true);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(options.lr));
  const int64_t n = x.size(0);
  const int64_t batch = options.batch_size > 0 ? std::min(options.batch_size, n) : n;
  const auto device = x.device();
  double last = 0.0;
  torch::AutoGradMode grad(true);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    torch::Tensor order =
        batch < n ? torch::tensor(util::permutation(n, util::mix_seed(options.seed, epoch)))
                  : torch::arange(n);
    double sum = 0.0;
    for (int64_t s = 0; s < n; s += batch) {
      const auto rows = order.slice(0, s, std::min(n, s + batch)).to(device);
      auto loss = loss_of(torch::addmm(bias, x.index_select(0, rows), weight.t()), rows);
      auto total = loss + 0.5 * options.weight_decay * weight.pow(2).sum();
      optimizer.zero_grad();
      total.backward();
      optimizer.step();
      sum += loss.item<double>() * static_cast<double>(rows.size(0));
    }
    last = sum / static_cast<double>(n);
  }
  return last;
}

}  // namespace detail

void validate(const ProbeOptions& options) {
  make_multilabel_loss(options.loss);  // a known name, valid parameters
  LOOKALIKE_CHECK_ARG(
      options.epochs > 0 && options.lr > 0 && options.weight_decay >= 0 && options.batch_size >= 0,
      "ProbeOptions: epochs and lr must be positive, weight_decay and batch_size "
      "non-negative");
  LOOKALIKE_CHECK_ARG(options.pos_weight == "none" || options.pos_weight == "balanced",
                      "ProbeOptions.pos_weight: expected none or balanced, got '",
                      options.pos_weight, "'");
}

torch::Tensor pooled_features(models::Net& net, const torch::Tensor& images, int64_t batch_size,
                              const std::string& device_name) {
  LOOKALIKE_CHECK_ARG(!net.is_empty(), "pooled_features: the network is empty");
  LOOKALIKE_CHECK_ARG(
      images.defined() && images.dim() == 4 &&
          (images.scalar_type() == torch::kUInt8 || images.scalar_type() == torch::kFloat),
      "pooled_features: images must be uint8 or float32 [N, C, H, W]");
  LOOKALIKE_CHECK_ARG(batch_size > 0, "pooled_features: batch_size must be positive");
  const auto device = util::parse_device(device_name);
  const int64_t n = images.size(0);
  auto out = torch::empty({n, net->embedding_dim()}, torch::kFloat);
  const bool was = net->is_training();
  net->eval();
  net->to(device);
  const util::CpuCacheScope cache;
  {
    const c10::InferenceMode inference;
    for (int64_t s = 0; s < n; s += batch_size) {
      const int64_t e = std::min(n, s + batch_size);
      auto x = images.slice(0, s, e).to(device);
      x = x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat).div_(255.0f) : x;
      out.slice(0, s, e).copy_(net->forward(x).embedding.to(torch::kFloat));
    }
  }
  net->train(was);
  return out;
}

util::Record fit_linear_probe(models::Net& net, const torch::Tensor& features,
                              const torch::Tensor& targets, const ProbeOptions& options) {
  LOOKALIKE_CHECK_ARG(!net.is_empty() && net->classifier(),
                      "fit_linear_probe: the network has no classifier (num_classes 0)");
  auto classifier = net->classifier();
  const int64_t k = classifier->weight.size(0), d = classifier->weight.size(1);
  LOOKALIKE_CHECK_ARG(features.defined() && features.dim() == 2 && features.size(1) == d &&
                          features.is_floating_point(),
                      "fit_linear_probe: features must be float [N, ", d, "], got ",
                      features.defined() ? features.sizes() : c10::IntArrayRef{});
  const int64_t n = features.size(0);
  LOOKALIKE_CHECK_ARG(n > 0, "fit_linear_probe: no training row");
  LOOKALIKE_CHECK_ARG(torch::isfinite(features).all().item<bool>(),
                      "fit_linear_probe: features contain NaN or infinite values");
  const bool multi = check_targets(targets, n, k);
  validate(options);
  LOOKALIKE_CHECK_ARG(!(options.pos_weight == "balanced" && !multi),
                      "ProbeOptions.pos_weight applies to multi-label targets only");
  LOOKALIKE_CHECK_ARG(multi || options.loss.name == "bce",
                      "ProbeOptions.loss applies to multi-label targets only (single-label "
                      "targets train with softmax cross-entropy), got '",
                      options.loss.name, "'");
  const auto multi_loss = make_multilabel_loss(options.loss);
  const auto start = std::chrono::steady_clock::now();
  const auto device = classifier->weight.device();
  // what the classifier reads in forward: ReLU of the pooled features (dropout is off in eval)
  const auto x = torch::relu(features.to(torch::kFloat)).to(device);
  const auto y = multi ? targets.to(torch::kFloat).to(device) : targets.to(device);
  torch::Tensor pos_weight;
  if (options.pos_weight == "balanced") {
    auto pos = y.sum(0);
    pos_weight = ((n - pos) / pos.clamp_min(1)).clamp_min(1);
  }
  auto weight = classifier->weight, bias = classifier->bias;
  const double last = detail::train_linear(
      x, weight, bias, options, [&](const torch::Tensor& logits, const torch::Tensor& rows) {
        const auto target = y.index_select(0, rows);
        return multi ? multi_loss->forward(logits, target, pos_weight)
                     : torch::cross_entropy_loss(logits, target);
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"loss", last}, {"epochs", options.epochs}, {"seconds", seconds}};
}

torch::Tensor probe_logits(models::Net& net, const torch::Tensor& features) {
  LOOKALIKE_CHECK_ARG(!net.is_empty() && net->classifier(),
                      "probe_logits: the network has no classifier (num_classes 0)");
  auto classifier = net->classifier();
  LOOKALIKE_CHECK_ARG(features.defined() && features.dim() == 2 &&
                          features.size(1) == classifier->weight.size(1) &&
                          features.is_floating_point(),
                      "probe_logits: features must be float [N, ", classifier->weight.size(1),
                      "], got ", features.defined() ? features.sizes() : c10::IntArrayRef{});
  const c10::InferenceMode inference;
  const auto device = classifier->weight.device();
  // as forward in eval mode: ReLU, (dropout off), the classifier
  return classifier->forward(torch::relu(features.to(torch::kFloat).to(device))).to(torch::kCPU);
}

}  // namespace lookalike::train
