#include "lookalike/localise/cam.h"

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/device.h"

namespace lookalike::localise {
namespace {

const std::vector<std::string> kMethods = {"auto", "cam", "gradcam"};

// Why CAM does not apply to this network ("" when it does).
std::string cam_obstacle(models::Net& net) {
  const auto& o = net->options();
  if (o.pooling != "avg") return "its pooling is " + o.pooling + ", not avg";
  if (net->embedding_dim() != net->backbone().info().channels)
    return "it projects the pooled map (embedding_dim " + std::to_string(o.embedding_dim) + ")";
  return "";
}

// Rows of a batch of images [start, end): indices into the M rows.
torch::Tensor rows_in(const torch::Tensor& image_index, int64_t start, int64_t end) {
  return torch::nonzero((image_index >= start).logical_and(image_index < end)).view({-1});
}

// The rows' classes, -1 replaced by the top class of the row's image (logits [B, K]).
torch::Tensor resolve_classes(const torch::Tensor& classes, const torch::Tensor& local_image,
                              const torch::Tensor& logits) {
  auto top = logits.argmax(1).index_select(0, local_image);
  return torch::where(classes < 0, top, classes);
}

// The rows (image_index, classes), defaults filled in, checked against N images and the
// network's classes.
std::pair<torch::Tensor, torch::Tensor> checked_rows(models::Net& net, const torch::Tensor& images,
                                                     const torch::Tensor& classes_in,
                                                     const torch::Tensor& image_index_in,
                                                     const CamOptions& options) {
  LOOKALIKE_CHECK_ARG(
      images.defined() && images.dim() == 4 &&
          (images.scalar_type() == torch::kUInt8 || images.scalar_type() == torch::kFloat),
      "activation_maps: images must be uint8 or float32 [N, C, H, W], got ",
      images.defined() ? images.sizes() : c10::IntArrayRef{}, " ",
      images.defined() ? images.scalar_type() : torch::kFloat);
  LOOKALIKE_CHECK_ARG(options.batch_size > 0, "CamOptions.batch_size must be positive, got ",
                      options.batch_size);
  const int64_t n = images.size(0), num_classes = net->options().num_classes;
  auto image_index = image_index_in.defined() ? image_index_in : torch::arange(n);
  auto classes = classes_in.defined() ? classes_in : torch::full({image_index.size(0)}, -1L);
  for (const auto* t : {&image_index, &classes})
    LOOKALIKE_CHECK_ARG(t->dim() == 1 && t->scalar_type() == torch::kLong,
                        "activation_maps: classes and image_index must be int64 [M], got ",
                        t->sizes(), " ", t->scalar_type());
  LOOKALIKE_CHECK_ARG(classes.size(0) == image_index.size(0), "activation_maps: ", classes.size(0),
                      " classes for ", image_index.size(0), " image indices");
  const int64_t m = classes.size(0);
  LOOKALIKE_CHECK_ARG(
      m == 0 || (image_index.min().item<int64_t>() >= 0 && image_index.max().item<int64_t>() < n),
      "activation_maps: image_index must lie in [0, ", n, ")");
  LOOKALIKE_CHECK_ARG(
      m == 0 ||
          (classes.min().item<int64_t>() >= -1 && classes.max().item<int64_t>() < num_classes),
      "activation_maps: classes must lie in [0, ", num_classes, ") or be -1 (the top class)");
  return {image_index, classes};
}

}  // namespace

std::vector<std::string> cam_methods() { return {"cam", "gradcam"}; }

std::string resolve_cam_method(models::Net& net, const std::string& method) {
  LOOKALIKE_CHECK_ARG(std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end(),
                      "CamOptions.method: unknown method '", method,
                      "'; expected auto, cam or gradcam");
  LOOKALIKE_CHECK_ARG(!net.is_empty() && net->classifier(),
                      "class activation maps need a network with a classifier (num_classes > 0)");
  const auto obstacle = cam_obstacle(net);
  if (method == "auto") return obstacle.empty() ? "cam" : "gradcam";
  LOOKALIKE_CHECK_ARG(method != "cam" || obstacle.empty(),
                      "CamOptions.method cam needs a classifier on the average-pooled feature "
                      "map, and this network's does not: ",
                      obstacle, " (use gradcam)");
  return method;
}

ActivationMaps activation_maps(models::Net& net, const torch::Tensor& images,
                               const torch::Tensor& classes_in, const torch::Tensor& image_index_in,
                               const CamOptions& options) {
  const auto method = resolve_cam_method(net, options.method);
  const auto [image_index, classes] =
      checked_rows(net, images, classes_in, image_index_in, options);
  const int64_t n = images.size(0), m = classes.size(0);
  const auto device = util::parse_device(options.device);
  const bool was_training = net->is_training();
  net->eval();
  net->to(device);
  const util::CpuCacheScope cache;
  ActivationMaps out;
  out.classes = torch::empty({m}, torch::kLong);
  out.scores = torch::empty({m}, torch::kFloat);
  std::vector<torch::Tensor> maps(m);
  auto weight = net->classifier()->weight.detach();  // [K, C]
  for (int64_t start = 0; start < n; start += options.batch_size) {
    const int64_t end = std::min(n, start + options.batch_size);
    const auto rows = rows_in(image_index, start, end);
    if (rows.numel() == 0) continue;
    auto x = images.slice(0, start, end).to(device);
    x = x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat).div_(255.0f) : x;
    torch::Tensor fmap;
    {
      torch::NoGradGuard no_grad;
      fmap = net->feature_map(x).to(torch::kFloat);  // [B, C, h, w]
    }
    const auto local = image_index.index_select(0, rows).sub(start).to(device);
    // Each row its own copy of its image's map: rows of one image get their own gradients.
    auto f = fmap.index_select(0, local).detach().requires_grad_(method == "gradcam");
    torch::Tensor logits, cls, map;
    if (method == "cam") {
      torch::NoGradGuard no_grad;
      logits = net->forward_features(f).logits.to(torch::kFloat);
      cls = resolve_classes(classes.index_select(0, rows).to(device),
                            torch::arange(rows.size(0), local.options()), logits);
      map = torch::einsum("rc,rchw->rhw", {weight.index_select(0, cls).to(torch::kFloat), f});
    } else {
      torch::AutoGradMode grad(true);
      logits = net->forward_features(f).logits.to(torch::kFloat);
      cls = resolve_classes(classes.index_select(0, rows).to(device),
                            torch::arange(rows.size(0), local.options()), logits.detach());
      auto chosen = logits.gather(1, cls.view({-1, 1})).sum();
      auto grad_f = torch::autograd::grad({chosen}, {f})[0];  // [R, C, h, w]
      auto alpha = grad_f.mean({2, 3}, /*keepdim=*/true);
      map = torch::relu((alpha * f.detach()).sum(1));
    }
    const auto scores = logits.detach().gather(1, cls.view({-1, 1})).view({-1});
    out.classes.index_copy_(0, rows, cls.cpu());
    out.scores.index_copy_(0, rows, scores.cpu());
    auto map_cpu = map.detach().cpu();
    const auto r = rows.accessor<int64_t, 1>();
    for (int64_t i = 0; i < rows.size(0); ++i) maps[r[i]] = map_cpu[i];
  }
  net->train(was_training);
  out.maps = m == 0 ? torch::empty({0, 0, 0}) : torch::stack(maps);
  return out;
}

}  // namespace lookalike::localise
