// The OpenCV local features: sift, orb, akaze (features2d), each image converted to grey and
// optionally shrunk to max_side, keypoints given back in the input image's pixels.
#include <omp.h>

#include <torch/torch.h>

#include "../../util/opencv_threads.h"
#include "lookalike/error.h"
#include "lookalike/local/features.h"
#include "lookalike/util/threads.h"

#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace lookalike::local {
namespace {

#ifdef LOOKALIKE_HAVE_OPENCV
class OpenCvExtractor : public LocalExtractor {
 public:
  OpenCvExtractor(LocalOptions o, bool binary) : o_(std::move(o)), binary_(binary) {}

  std::string kind() const override { return binary_ ? "binary" : "float"; }

  std::vector<LocalFeatures> extract(const torch::Tensor& images) override {
    const int64_t n = images.size(0);
    std::vector<LocalFeatures> out(static_cast<size_t>(n));
    auto hwc = images.permute({0, 2, 3, 1}).contiguous();  // [N, H, W, 3]
    // parallel over images, OpenCV serial inside
    util::parallel_rows(n, o_.threads,
                        [&](int64_t i) { out[static_cast<size_t>(i)] = one(hwc[i]); });
    return out;
  }

 private:
  cv::Ptr<cv::Feature2D> detector() const {
    const int k = o_.max_features;
    if (o_.method == "sift") return cv::SIFT::create(k, 3, o_.threshold > 0 ? o_.threshold : 0.04);
    if (o_.method == "orb")
      return cv::ORB::create(k > 0 ? k : 100000, 1.2f, 8, 31, 0, 2, cv::ORB::HARRIS_SCORE, 31,
                             o_.threshold > 0 ? static_cast<int>(o_.threshold) : 20);
    return cv::AKAZE::create(cv::AKAZE::DESCRIPTOR_MLDB, 0, 3,
                             o_.threshold > 0 ? static_cast<float>(o_.threshold) : 0.001f);
  }

  // hwc: uint8 [H, W, 3] contiguous.
  LocalFeatures one(const torch::Tensor& hwc) const {
    const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1));
    cv::Mat rgb(h, w, CV_8UC3, hwc.data_ptr<uint8_t>());
    cv::Mat grey;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    double scale = 1.0;
    if (o_.max_side > 0 && std::max(h, w) > o_.max_side) {
      scale = static_cast<double>(o_.max_side) / std::max(h, w);
      cv::Mat small;
      cv::resize(grey, small, cv::Size(), scale, scale, cv::INTER_AREA);
      grey = small;
    }
    std::vector<cv::KeyPoint> kps;
    cv::Mat desc;
    detector()->detectAndCompute(grey, cv::noArray(), kps, desc);
    const int64_t k = static_cast<int64_t>(kps.size());
    LocalFeatures f;
    f.width = w;
    f.height = h;
    f.keypoints = torch::empty({k, 4}, torch::kFloat32);
    f.strength = torch::empty({k}, torch::kFloat32);
    auto kp = f.keypoints.accessor<float, 2>();
    auto st = f.strength.accessor<float, 1>();
    const float inv = static_cast<float>(1.0 / scale);
    for (int64_t i = 0; i < k; ++i) {
      const auto& p = kps[static_cast<size_t>(i)];
      // OpenCV's pixel centres are at integer coordinates in both images: x' = x / scale is
      // exact only up to the resampling's half-pixel offset, (x + 0.5) / scale - 0.5.
      kp[i][0] = (p.pt.x + 0.5f) * inv - 0.5f;
      kp[i][1] = (p.pt.y + 0.5f) * inv - 0.5f;
      kp[i][2] = p.size * inv;
      kp[i][3] = p.angle;
      st[i] = p.response;
    }
    const int64_t width = binary_ ? (desc.empty() ? descriptor_bytes() : desc.cols)
                                  : (desc.empty() ? 128 : desc.cols);
    if (k == 0) {
      f.descriptors = torch::empty({0, width}, binary_ ? torch::kUInt8 : torch::kFloat32);
    } else {
      LOOKALIKE_CHECK_ARG(
          desc.rows == k && desc.type() == (binary_ ? CV_8U : CV_32F) && desc.isContinuous(),
          "local features (", o_.method, "): OpenCV gave ", desc.rows, " x ", desc.cols,
          " descriptors of type ", desc.type(), " for ", k, " keypoints");
      f.descriptors =
          torch::from_blob(desc.data, {k, width}, binary_ ? torch::kUInt8 : torch::kFloat32)
              .clone();
    }
    return keep_strongest(f, o_.max_features);
  }

  int64_t descriptor_bytes() const { return o_.method == "orb" ? 32 : 61; }

  LocalOptions o_;
  bool binary_;
};

template <bool Binary>
std::shared_ptr<LocalExtractor> make(const LocalOptions& o) {
  return std::make_shared<OpenCvExtractor>(o, Binary);
}
#else
template <bool Binary>
std::shared_ptr<LocalExtractor> make(const LocalOptions& o) {
  throw Error(detail::concat("local features '", o.method,
                             "': this build of lookalike has no OpenCV (not found at configure "
                             "time)"));
}
#endif

}  // namespace

LOOKALIKE_REGISTER(local_extractor_registry(), "sift", make<false>);
LOOKALIKE_REGISTER(local_extractor_registry(), "orb", make<true>);
LOOKALIKE_REGISTER(local_extractor_registry(), "akaze", make<true>);

}  // namespace lookalike::local
