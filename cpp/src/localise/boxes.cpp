#include "lookalike/localise/boxes.h"

#include <cmath>
#include <exception>

#include <torch/torch.h>

#include "../util/opencv_threads.h"
#include "lookalike/error.h"
#include "lookalike/util/threads.h"

#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace lookalike::localise {
namespace {

// sizes [M, 2] or [2] -> int64 [M, 2] (width, height), each positive.
torch::Tensor expand_sizes(const torch::Tensor& sizes, int64_t m, const std::string& where) {
  LOOKALIKE_CHECK_ARG(sizes.defined() && sizes.scalar_type() == torch::kLong &&
                          ((sizes.dim() == 1 && sizes.size(0) == 2) ||
                           (sizes.dim() == 2 && sizes.size(0) == m && sizes.size(1) == 2)),
                      where, ": sizes must be int64 [", m, ", 2] or [2] (width, height), got ",
                      sizes.defined() ? sizes.sizes() : c10::IntArrayRef{});
  auto s = sizes.dim() == 1 ? sizes.view({1, 2}).expand({m, 2}) : sizes;
  LOOKALIKE_CHECK_ARG(m == 0 || s.min().item<int64_t>() > 0, where,
                      ": widths and heights must be positive");
  return s.contiguous();
}

void check_box_tensor(const torch::Tensor& boxes, const std::string& where) {
  LOOKALIKE_CHECK_ARG(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4 &&
                          boxes.scalar_type() == torch::kLong,
                      where, ": boxes must be int64 [M, 4] (x0, y0, x1, y1), got ",
                      boxes.defined() ? boxes.sizes() : c10::IntArrayRef{}, " ",
                      boxes.defined() ? boxes.scalar_type() : torch::kLong);
}

#ifdef LOOKALIKE_HAVE_OPENCV
// The box of the pixels above t (all of them, or the largest 8-connected component), or the
// empty box when there is none.
void threshold_box(const cv::Mat& scaled, double t, bool largest, int64_t* box) {
  cv::Mat mask = scaled > t;
  if (!largest) {
    const cv::Rect r = cv::boundingRect(mask);
    box[0] = r.x, box[1] = r.y, box[2] = r.x + r.width, box[3] = r.y + r.height;
    return;
  }
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  int best = 0, best_area = 0;
  for (int c = 1; c < n; ++c) {
    const int area = stats.at<int>(c, cv::CC_STAT_AREA);
    if (area > best_area) best = c, best_area = area;
  }
  if (best == 0) {
    box[0] = box[1] = box[2] = box[3] = 0;
    return;
  }
  box[0] = stats.at<int>(best, cv::CC_STAT_LEFT);
  box[1] = stats.at<int>(best, cv::CC_STAT_TOP);
  box[2] = box[0] + stats.at<int>(best, cv::CC_STAT_WIDTH);
  box[3] = box[1] + stats.at<int>(best, cv::CC_STAT_HEIGHT);
}
#endif

}  // namespace

torch::Tensor boxes_from_maps(const torch::Tensor& maps_in, const torch::Tensor& sizes_in,
                              const std::vector<double>& thresholds, const std::string& region,
                              int threads) {
  LOOKALIKE_CHECK_ARG(region == "largest" || region == "all",
                      "boxes_from_maps: region must be largest or all, got '", region, "'");
  const bool largest = region == "largest";
  LOOKALIKE_CHECK_ARG(maps_in.defined() && maps_in.dim() == 3 && maps_in.is_floating_point(),
                      "boxes_from_maps: maps must be float [M, h, w], got ",
                      maps_in.defined() ? maps_in.sizes() : c10::IntArrayRef{});
  const int64_t m = maps_in.size(0);
  LOOKALIKE_CHECK_ARG(m == 0 || (maps_in.size(1) > 0 && maps_in.size(2) > 0),
                      "boxes_from_maps: maps have an empty side: ", maps_in.sizes());
  LOOKALIKE_CHECK_ARG(!thresholds.empty(), "boxes_from_maps: no threshold given");
  for (double t : thresholds)
    LOOKALIKE_CHECK_ARG(t >= 0.0 && t <= 1.0,
                        "boxes_from_maps: thresholds are fractions of the map's range, in [0, 1]; "
                        "got ",
                        t);
  auto maps = maps_in.to(torch::kFloat).contiguous();
  LOOKALIKE_CHECK_ARG(m == 0 || torch::isfinite(maps).all().item<bool>(),
                      "boxes_from_maps: maps contain NaN or infinite values");
  const auto sizes = expand_sizes(sizes_in, m, "boxes_from_maps");
  const int64_t nt = static_cast<int64_t>(thresholds.size());
  auto out = torch::zeros({nt, m, 4}, torch::kLong);
  if (m == 0) return out;
#ifdef LOOKALIKE_HAVE_OPENCV
  const int h = static_cast<int>(maps.size(1)), w = static_cast<int>(maps.size(2));
  const auto size = sizes.accessor<int64_t, 2>();
  int64_t* o = out.data_ptr<int64_t>();
  float* base = maps.data_ptr<float>();
  util::parallel_rows(
      m, threads,
      [&](int64_t i) {
        cv::Mat map(h, w, CV_32F, base + i * h * w);
        double lo = 0, hi = 0;
        cv::minMaxLoc(map, &lo, &hi);
        if (!(hi > lo)) return;  // a constant map: no pixel above any threshold, empty boxes
        cv::Mat scaled;
        cv::resize((map - lo) / (hi - lo), scaled,
                   cv::Size(static_cast<int>(size[i][0]), static_cast<int>(size[i][1])), 0, 0,
                   cv::INTER_LINEAR);
        for (int64_t t = 0; t < nt; ++t)
          threshold_box(scaled, thresholds[t], largest, o + (t * m + i) * 4);
      },
      4);
#else
  (void)threads;
  throw InvalidArgument("boxes_from_maps: this build has no OpenCV");
#endif
  return out;
}

torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b) {
  check_box_tensor(a, "box_iou");
  check_box_tensor(b, "box_iou");
  LOOKALIKE_CHECK_ARG(a.size(0) == b.size(0), "box_iou: ", a.size(0), " boxes against ", b.size(0));
  auto area = [](const torch::Tensor& x) {
    return ((x.select(1, 2) - x.select(1, 0)) * (x.select(1, 3) - x.select(1, 1))).clamp_min(0);
  };
  auto iw = (torch::minimum(a.select(1, 2), b.select(1, 2)) -
             torch::maximum(a.select(1, 0), b.select(1, 0)))
                .clamp_min(0);
  auto ih = (torch::minimum(a.select(1, 3), b.select(1, 3)) -
             torch::maximum(a.select(1, 1), b.select(1, 1)))
                .clamp_min(0);
  auto inter = (iw * ih).to(torch::kDouble);
  auto uni = area(a).to(torch::kDouble) + area(b).to(torch::kDouble) - inter;
  return torch::where(uni > 0, inter / uni.clamp_min(1), torch::zeros_like(inter))
      .to(torch::kFloat);
}

void check_boxes(const torch::Tensor& boxes, const torch::Tensor& sizes_in,
                 const std::string& where) {
  check_box_tensor(boxes, where);
  const int64_t m = boxes.size(0);
  const auto sizes = expand_sizes(sizes_in, m, where);
  if (m == 0) return;
  const auto x0 = boxes.select(1, 0), y0 = boxes.select(1, 1), x1 = boxes.select(1, 2),
             y1 = boxes.select(1, 3);
  const auto bad = (x0 < 0)
                       .logical_or(y0 < 0)
                       .logical_or(x1 < x0)
                       .logical_or(y1 < y0)
                       .logical_or(x1 > sizes.select(1, 0))
                       .logical_or(y1 > sizes.select(1, 1));
  if (bad.any().item<bool>()) {
    const int64_t i = bad.nonzero()[0][0].item<int64_t>();
    throw InvalidArgument(detail::concat(
        where, ": box ", i, " (", x0[i].item<int64_t>(), ", ", y0[i].item<int64_t>(), ", ",
        x1[i].item<int64_t>(), ", ", y1[i].item<int64_t>(), ") is not inside its ",
        sizes[i][0].item<int64_t>(), "x", sizes[i][1].item<int64_t>(),
        " image (0 <= x0 <= x1 <= width, 0 <= y0 <= y1 <= height)"));
  }
}

torch::Tensor whole_boxes(const torch::Tensor& sizes_in) {
  LOOKALIKE_CHECK_ARG(sizes_in.defined() && sizes_in.dim() == 2,
                      "whole_boxes: sizes must be int64 [M, 2]");
  const auto sizes = expand_sizes(sizes_in, sizes_in.size(0), "whole_boxes");
  return torch::cat({torch::zeros_like(sizes), sizes}, 1);
}

torch::Tensor centred_mean_boxes(const torch::Tensor& reference,
                                 const torch::Tensor& reference_groups,
                                 const torch::Tensor& reference_sizes, const torch::Tensor& groups,
                                 const torch::Tensor& sizes_in) {
  check_boxes(reference, reference_sizes, "centred_mean_boxes: reference");
  const int64_t r = reference.size(0);
  LOOKALIKE_CHECK_ARG(r > 0, "centred_mean_boxes: no reference box to take the mean size of");
  for (const auto* g : {&reference_groups, &groups})
    LOOKALIKE_CHECK_ARG(g->defined() && g->dim() == 1 && g->scalar_type() == torch::kLong &&
                            (g->numel() == 0 || g->min().item<int64_t>() >= 0),
                        "centred_mean_boxes: groups must be int64 [M], non-negative");
  LOOKALIKE_CHECK_ARG(reference_groups.size(0) == r,
                      "centred_mean_boxes: ", reference_groups.size(0), " reference groups for ", r,
                      " boxes");
  const int64_t m = groups.size(0);
  const auto sizes = expand_sizes(sizes_in, m, "centred_mean_boxes").to(torch::kDouble);
  const auto rs = expand_sizes(reference_sizes, r, "centred_mean_boxes").to(torch::kDouble);
  const auto ref = reference.to(torch::kDouble);
  // each reference box's width and height as fractions of its photo's: [R, 2]
  auto frac = torch::stack({(ref.select(1, 2) - ref.select(1, 0)) / rs.select(1, 0),
                            (ref.select(1, 3) - ref.select(1, 1)) / rs.select(1, 1)},
                           1);
  const int64_t ng =
      std::max(reference_groups.max().item<int64_t>(), m ? groups.max().item<int64_t>() : 0) + 1;
  auto sum = torch::zeros({ng, 2}, torch::kDouble).index_add_(0, reference_groups, frac);
  auto count = torch::zeros({ng}, torch::kDouble)
                   .index_add_(0, reference_groups, torch::ones({r}, torch::kDouble));
  auto mean = torch::where(count.unsqueeze(1) > 0, sum / count.clamp_min(1).unsqueeze(1),
                           frac.mean(0, true).expand({ng, 2}));
  auto wh = (mean.index_select(0, groups) * sizes).round();  // [M, 2]
  auto lo = ((sizes - wh) / 2).floor();
  return torch::cat({lo, lo + wh}, 1).to(torch::kLong);
}

torch::Tensor crop_images(const torch::Tensor& images, const torch::Tensor& boxes, int64_t side,
                          int threads) {
  LOOKALIKE_CHECK_ARG(images.defined() && images.dim() == 4 &&
                          images.scalar_type() == torch::kUInt8 && images.size(1) >= 1 &&
                          images.size(1) <= 4,
                      "crop_images: images must be uint8 [N, C, H, W] with 1 to 4 channels, got ",
                      images.defined() ? images.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(side > 0, "crop_images: side must be positive, got ", side);
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  LOOKALIKE_CHECK_ARG(boxes.defined() && boxes.dim() == 2 && boxes.size(0) == n,
                      "crop_images: one box per image expected (", n, "), got ",
                      boxes.defined() ? boxes.sizes() : c10::IntArrayRef{});
  check_boxes(boxes, torch::tensor({w, h}), "crop_images");
  auto hwc = images.permute({0, 2, 3, 1}).contiguous();
  auto out = torch::empty({n, side, side, c}, torch::kUInt8);
#ifdef LOOKALIKE_HAVE_OPENCV
  const auto b = boxes.contiguous();
  const int64_t* bp = b.data_ptr<int64_t>();
  const int type = CV_8UC(static_cast<int>(c));
  util::parallel_rows(n, threads, [&](int64_t i) {
    cv::Mat image(static_cast<int>(h), static_cast<int>(w), type, hwc[i].data_ptr<uint8_t>());
    const int64_t* x = bp + 4 * i;
    const bool empty = x[2] <= x[0] || x[3] <= x[1];
    cv::Rect roi = empty ? cv::Rect(0, 0, static_cast<int>(w), static_cast<int>(h))
                         : cv::Rect(static_cast<int>(x[0]), static_cast<int>(x[1]),
                                    static_cast<int>(x[2] - x[0]), static_cast<int>(x[3] - x[1]));
    cv::Mat dst(static_cast<int>(side), static_cast<int>(side), type, out[i].data_ptr<uint8_t>());
    const bool shrink = roi.width >= side && roi.height >= side;
    cv::resize(image(roi), dst, dst.size(), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  });
#else
  (void)threads;
  throw InvalidArgument("crop_images: this build has no OpenCV");
#endif
  return out.permute({0, 3, 1, 2}).contiguous();
}

}  // namespace lookalike::localise
