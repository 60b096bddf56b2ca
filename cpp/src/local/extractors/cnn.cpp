// cnn: DELF-style dense local descriptors from a backbone's feature map. Each cell of the map
// [C, h, w] is a keypoint at the centre of the image region it stands for, its channel vector
// (L2-normalised) the descriptor, its activation norm the strength; the strongest are kept.
#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/local/features.h"
#include "lookalike/util/cpu_cache.h"

namespace lookalike::local {
namespace {

class CnnExtractor : public LocalExtractor {
 public:
  explicit CnnExtractor(const LocalOptions& o) : o_(o), net_(models::make_net(o.net)) {
    net_->eval();
  }

  std::string kind() const override { return "float"; }

  std::vector<LocalFeatures> extract(const torch::Tensor& images) override {
    const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
    std::vector<LocalFeatures> out;
    out.reserve(static_cast<size_t>(n));
    util::CpuCacheScope cache;
    c10::InferenceMode guard;
    for (int64_t from = 0; from < n; from += o_.batch_size) {
      auto x = images.slice(0, from, std::min(n, from + o_.batch_size)).to(torch::kFloat).div_(255);
      auto maps = net_->feature_map(x);  // [B, C, fh, fw]
      for (int64_t b = 0; b < maps.size(0); ++b) out.push_back(cells(maps[b], w, h));
    }
    return out;
  }

 private:
  // map: [C, fh, fw] of an image w x h pixels.
  LocalFeatures cells(const torch::Tensor& map, int64_t w, int64_t h) const {
    const int64_t c = map.size(0), fh = map.size(1), fw = map.size(2);
    auto desc = map.reshape({c, fh * fw}).t().contiguous();  // [fh*fw, C], row-major cells
    auto norm = desc.norm(2, 1);
    auto keep = norm > std::max(o_.threshold, 1e-12);
    auto idx = keep.nonzero().squeeze(1);
    const double sx = static_cast<double>(w) / fw, sy = static_cast<double>(h) / fh;
    auto col = idx.remainder(fw).to(torch::kFloat), row = idx.div(fw, "floor").to(torch::kFloat);
    LocalFeatures f;
    f.width = w;
    f.height = h;
    // the cell's centre in pixel-centre coordinates (pixel i covers [i - 0.5, i + 0.5])
    f.keypoints = torch::stack({(col + 0.5) * sx - 0.5, (row + 0.5) * sy - 0.5,
                                torch::full_like(col, std::max(sx, sy)), torch::full_like(col, -1)},
                               1)
                      .to(torch::kFloat32);
    f.strength = norm.index_select(0, idx).to(torch::kFloat32);
    f.descriptors = (desc.index_select(0, idx) / f.strength.unsqueeze(1)).to(torch::kFloat32);
    return keep_strongest(f, o_.max_features);
  }

  LocalOptions o_;
  models::Net net_;
};

std::shared_ptr<LocalExtractor> make_cnn(const LocalOptions& options) {
  LocalOptions o = options;
  if (o.net.in_channels == 0) o.net.in_channels = 3;
  LOOKALIKE_CHECK_ARG(o.net.in_channels == 3,
                      "LocalOptions.net.in_channels must be 3 (RGB images), got ",
                      o.net.in_channels);
  models::validate(o.net);
  return std::make_shared<CnnExtractor>(o);
}

}  // namespace

LOOKALIKE_REGISTER(local_extractor_registry(), "cnn", make_cnn);

}  // namespace lookalike::local
