#include "lookalike/local/features.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::local {

util::Registry<LocalExtractorFactory>& local_extractor_registry() {
  static util::Registry<LocalExtractorFactory> registry("local feature method");
  return registry;
}

std::vector<std::string> local_extractors() { return local_extractor_registry().names(); }

void check_features(const LocalFeatures& f, const std::string& where) {
  LOOKALIKE_CHECK_ARG(f.keypoints.defined() && f.descriptors.defined() && f.strength.defined(),
                      where, ": keypoints, descriptors and strength must all be set");
  const auto& kp = f.keypoints;
  LOOKALIKE_CHECK_ARG(kp.dim() == 2 && kp.size(1) == 4 && kp.scalar_type() == torch::kFloat32,
                      where, ": keypoints must be float32 [K, 4] (x, y, size, angle), got ",
                      kp.scalar_type(), " ", kp.sizes());
  const int64_t k = kp.size(0);
  const auto& d = f.descriptors;
  LOOKALIKE_CHECK_ARG(d.dim() == 2 && d.size(0) == k &&
                          (d.scalar_type() == torch::kFloat32 || d.scalar_type() == torch::kUInt8),
                      where, ": descriptors must be float32 or uint8 [K, D] with K = ", k,
                      " keypoints, got ", d.scalar_type(), " ", d.sizes());
  LOOKALIKE_CHECK_ARG(d.size(1) > 0, where, ": descriptors must have at least one column");
  LOOKALIKE_CHECK_ARG(f.strength.dim() == 1 && f.strength.size(0) == k &&
                          f.strength.scalar_type() == torch::kFloat32,
                      where, ": strength must be float32 [K] with K = ", k, ", got ",
                      f.strength.scalar_type(), " ", f.strength.sizes());
  LOOKALIKE_CHECK_ARG(f.width >= 0 && f.height >= 0, where, ": image size must be non-negative");
  if (k == 0) return;
  LOOKALIKE_CHECK_ARG(
      torch::isfinite(kp).all().item<bool>() && torch::isfinite(f.strength).all().item<bool>() &&
          (f.binary() || torch::isfinite(d).all().item<bool>()),
      where, ": keypoints, descriptors and strength must be finite (NaN or inf found)");
}

namespace {
void validate(const LocalOptions& o) {
  local_extractor_registry().get(o.method);  // unknown method: InvalidArgument naming the known
  LOOKALIKE_CHECK_ARG(o.max_features >= 0, "LocalOptions.max_features must be >= 0, got ",
                      o.max_features);
  LOOKALIKE_CHECK_ARG(o.max_side >= 0, "LocalOptions.max_side must be >= 0, got ", o.max_side);
  LOOKALIKE_CHECK_ARG(o.threshold >= 0, "LocalOptions.threshold must be >= 0, got ", o.threshold);
  LOOKALIKE_CHECK_ARG(o.batch_size > 0, "LocalOptions.batch_size must be positive, got ",
                      o.batch_size);
  const bool cnn = o.method == "cnn";
  LOOKALIKE_CHECK_ARG(!cnn || o.max_side == 0,
                      "LocalOptions.max_side applies to the OpenCV methods, not cnn (use "
                      "net.input_size)");
  LOOKALIKE_CHECK_ARG(cnn || util::options_json(o.net) == util::options_json(models::NetOptions{}),
                      "LocalOptions.net applies to method cnn only (method is '", o.method, "')");
}
}  // namespace

std::shared_ptr<LocalExtractor> make_local_extractor(const LocalOptions& options) {
  validate(options);
  return local_extractor_registry().get(options.method)(options);
}

std::vector<LocalFeatures> extract_local(const torch::Tensor& images, const LocalOptions& options) {
  LOOKALIKE_CHECK_ARG(images.defined() && images.dim() == 4 && images.size(1) == 3 &&
                          images.scalar_type() == torch::kUInt8,
                      "extract_local: images must be uint8 [N, 3, H, W] RGB, got ",
                      images.defined() ? c10::toString(images.scalar_type()) : "undefined", " ",
                      images.defined() ? images.sizes() : c10::IntArrayRef{});
  return make_local_extractor(options)->extract(images);
}

LocalFeatures keep_strongest(const LocalFeatures& f, int64_t k) {
  if (k <= 0 || f.size() <= k) return f;
  // stable descending sort: equal strengths keep index order
  auto order = std::get<1>(torch::sort(f.strength, /*stable=*/true, /*dim=*/0, /*descending=*/true))
                   .slice(0, 0, k);
  LocalFeatures out = f;
  out.keypoints = f.keypoints.index_select(0, order);
  out.descriptors = f.descriptors.index_select(0, order);
  out.strength = f.strength.index_select(0, order);
  return out;
}

}  // namespace lookalike::local
