#include "lookalike/dedup/relist.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "lookalike/error.h"
#include "lookalike/util/rng.h"

#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace lookalike::dedup {

torch::Tensor perturb_image(const torch::Tensor& image, std::mt19937_64& rng, const PhotoNoise& o) {
  LOOKALIKE_CHECK_ARG(
      image.dim() == 3 && image.size(0) == 3 && image.scalar_type() == torch::kUInt8,
      "perturb_image: expected an RGB image uint8 [3, H, W], got ", image.sizes(), " ",
      image.scalar_type());
  LOOKALIKE_CHECK_ARG(o.min_crop > 0 && o.min_crop <= 1 && o.min_quality >= 1 &&
                          o.max_quality <= 100 && o.min_quality <= o.max_quality,
                      "perturb_image: min_crop must be in (0, 1], JPEG qualities in [1, 100]");
#ifdef LOOKALIKE_HAVE_OPENCV
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int h = static_cast<int>(image.size(1)), w = static_cast<int>(image.size(2));
  auto hwc = image.permute({1, 2, 0}).contiguous();
  cv::Mat rgb(h, w, CV_8UC3, hwc.data_ptr<uint8_t>());
  cv::Mat img = rgb.clone();
  // Background tint first (it is the photo studio), then framing, then colour and codec.
  if (u(rng) < o.background) {
    cv::Mat mask;
    cv::inRange(img, cv::Scalar(235, 235, 235), cv::Scalar(255, 255, 255), mask);
    const cv::Vec3b tint(static_cast<uint8_t>(200 + util::bounded(rng, 50)),
                         static_cast<uint8_t>(200 + util::bounded(rng, 50)),
                         static_cast<uint8_t>(200 + util::bounded(rng, 50)));
    img.setTo(cv::Scalar(tint[0], tint[1], tint[2]), mask);
  }
  const double side = o.min_crop + (1 - o.min_crop) * u(rng);
  const int cw = std::max(1, static_cast<int>(w * side)),
            ch = std::max(1, static_cast<int>(h * side));
  const int x0 = static_cast<int>(util::bounded(rng, static_cast<uint64_t>(w - cw + 1)));
  const int y0 = static_cast<int>(util::bounded(rng, static_cast<uint64_t>(h - ch + 1)));
  cv::Mat framed;  // not resized in place: the crop is a view into img
  cv::resize(img(cv::Rect(x0, y0, cw, ch)), framed, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  img = framed;
  if (u(rng) < o.flip) cv::flip(img, img, 1);
  if (o.hue != 0 || o.saturation != 0 || o.value != 0) {  // 8-bit HSV is lossy: only when asked
    cv::Mat hsv;
    cv::cvtColor(img, hsv, cv::COLOR_RGB2HSV);
    const int dh =
        static_cast<int>(util::bounded(rng, static_cast<uint64_t>(2 * o.hue + 1))) - o.hue;
    const double sm = 1 + o.saturation * (2 * u(rng) - 1), vm = 1 + o.value * (2 * u(rng) - 1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        auto& p = hsv.at<cv::Vec3b>(y, x);
        p[0] = static_cast<uint8_t>((p[0] + dh + 180) % 180);
        p[1] = cv::saturate_cast<uint8_t>(p[1] * sm);
        p[2] = cv::saturate_cast<uint8_t>(p[2] * vm);
      }
    cv::cvtColor(hsv, img, cv::COLOR_HSV2RGB);
  }
  if (u(rng) < o.jpeg) {
    std::vector<uchar> jpeg;
    const int quality =
        o.min_quality + static_cast<int>(util::bounded(
                            rng, static_cast<uint64_t>(o.max_quality - o.min_quality + 1)));
    cv::Mat bgr;
    cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
    cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality});
    cv::cvtColor(cv::imdecode(jpeg, cv::IMREAD_COLOR), img, cv::COLOR_BGR2RGB);
  }
  auto out = torch::empty({h, w, 3}, torch::kUInt8);
  std::memcpy(out.data_ptr<uint8_t>(), img.data, static_cast<size_t>(h * w * 3));
  return out.permute({2, 0, 1}).contiguous();
#else
  (void)rng;
  throw InvalidArgument("perturb_image: this build has no OpenCV");
#endif
}

Relistings simulate_relistings(const std::vector<std::string>& titles, const torch::Tensor& images,
                               const RelistOptions& o) {
  const int64_t n = static_cast<int64_t>(titles.size());
  LOOKALIKE_CHECK_ARG(n > 0, "simulate_relistings: no items");
  LOOKALIKE_CHECK_ARG(o.min_copies >= 1 && o.max_copies >= o.min_copies,
                      "simulate_relistings: need 1 <= min_copies <= max_copies");
  LOOKALIKE_CHECK_ARG(o.originals >= 0 && o.originals <= n,
                      "simulate_relistings: originals must be in [0, ", n, "], got ", o.originals);
  if (images.defined())
    LOOKALIKE_CHECK_ARG(images.dim() == 4 && images.size(0) == n && images.size(1) == 3 &&
                            images.scalar_type() == torch::kUInt8,
                        "simulate_relistings: images must be uint8 [", n, ", 3, S, S], got ",
                        images.sizes(), " ", images.scalar_type());
  auto perm = util::permutation(n, util::mix_seed(o.seed, 77));
  const int64_t chosen = o.originals > 0 ? o.originals : n;
  std::vector<int64_t> picked(perm.begin(), perm.begin() + chosen);
  std::sort(picked.begin(), picked.end());
  std::mt19937_64 rng(util::mix_seed(o.seed, 78));
  Relistings out;
  std::vector<torch::Tensor> imgs;
  for (int64_t src : picked) {
    const int copies =
        o.min_copies + static_cast<int>(util::bounded(
                           rng, static_cast<uint64_t>(o.max_copies - o.min_copies + 1)));
    for (int c = 0; c < copies; ++c) {
      out.source.push_back(src);
      out.titles.push_back(perturb_title(titles[static_cast<size_t>(src)], rng, o.title));
      if (images.defined()) imgs.push_back(perturb_image(images[src], rng, o.photo));
    }
  }
  if (!imgs.empty()) out.images = torch::stack(imgs);
  return out;
}

std::pair<Listings, torch::Tensor> with_relistings(const Listings& base,
                                                   const RelistOptions& options) {
  const int64_t n = base.size();
  LOOKALIKE_CHECK_ARG(options.originals <= n, "relist.originals = ", options.originals,
                      " but the catalogue has ", n, " items");
  const Relistings copies = simulate_relistings(base.titles, base.images, options);
  Listings out = base;
  out.phash = torch::Tensor();
  out.groups.clear();
  std::vector<int64_t> groups(static_cast<size_t>(n));
  std::iota(groups.begin(), groups.end(), int64_t{0});
  std::unordered_map<int64_t, int> copies_of;
  for (size_t i = 0; i < copies.source.size(); ++i) {
    const int64_t s = copies.source[i];
    out.ids.push_back(base.ids[static_cast<size_t>(s)] + "~relist" +
                      std::to_string(++copies_of[s]));
    out.titles.push_back(copies.titles[i]);
    out.texts.push_back(copies.titles[i]);
    for (size_t a = 0; a < base.attrs.size(); ++a)
      out.attrs[a].push_back(base.attrs[a][static_cast<size_t>(s)]);
    groups.push_back(s);
  }
  if (base.images.defined()) out.images = torch::cat({base.images, copies.images});
  out.source =
      base.source + " + " + std::to_string(copies.source.size()) + " simulated re-listings";
  return {std::move(out), torch::tensor(groups, torch::kLong)};
}

}  // namespace lookalike::dedup
