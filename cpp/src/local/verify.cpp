#include "lookalike/local/verify.h"

#include <omp.h>

#include <torch/torch.h>

#include "../util/opencv_threads.h"
#include "lookalike/error.h"
#include "lookalike/util/threads.h"
#include "match_checked.h"

#ifdef LOOKALIKE_HAVE_OPENCV
#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#endif

namespace lookalike::local {

int64_t min_matches(const std::string& model) {
  if (model == "homography") return 4;
  if (model == "affine") return 3;
  if (model == "similarity") return 2;
  if (model == "none") return 1;
  throw InvalidArgument(
      ::lookalike::detail::concat("VerifyOptions.model must be homography, affine, "
                                  "similarity or none, got '",
                                  model, "'"));
}

void validate(const VerifyOptions& o) {
  min_matches(o.model);
  if (o.model == "homography")
    LOOKALIKE_CHECK_ARG(o.estimator == "magsac" || o.estimator == "ransac",
                        "VerifyOptions.estimator for a homography must be magsac or ransac, got '",
                        o.estimator, "'");
  else if (o.model != "none")
    LOOKALIKE_CHECK_ARG(o.estimator == "ransac" || o.estimator == "lmeds",
                        "VerifyOptions.estimator for model ", o.model,
                        " must be ransac or lmeds, got '", o.estimator, "'");
  LOOKALIKE_CHECK_ARG(o.threshold > 0, "VerifyOptions.threshold must be positive, got ",
                      o.threshold);
  LOOKALIKE_CHECK_ARG(o.max_iters > 0, "VerifyOptions.max_iters must be positive, got ",
                      o.max_iters);
  LOOKALIKE_CHECK_ARG(o.confidence > 0 && o.confidence < 1,
                      "VerifyOptions.confidence must be in (0, 1), got ", o.confidence);
  validate(o.match);
}

namespace {

#ifdef LOOKALIKE_HAVE_OPENCV
// The model fitted to matched points (float [M, 2] each); H 3x3 CV_64F or empty, mask [M].
cv::Mat fit(const cv::Mat& src, const cv::Mat& dst, const VerifyOptions& o, cv::Mat& mask) {
  const int method = o.estimator == "lmeds" ? cv::LMEDS : cv::RANSAC;
  if (o.model == "homography")
    return cv::findHomography(src, dst, o.estimator == "magsac" ? cv::USAC_MAGSAC : cv::RANSAC,
                              o.threshold, mask, o.max_iters, o.confidence);
  cv::Mat a = o.model == "affine"
                  ? cv::estimateAffine2D(src, dst, mask, method, o.threshold,
                                         static_cast<size_t>(o.max_iters), o.confidence)
                  : cv::estimateAffinePartial2D(src, dst, mask, method, o.threshold,
                                                static_cast<size_t>(o.max_iters), o.confidence);
  if (a.empty()) return a;
  cv::Mat h = cv::Mat::eye(3, 3, CV_64F);
  a.copyTo(h.rowRange(0, 2));
  return h;
}
#endif

Verification verify_checked(const LocalFeatures& a, const LocalFeatures& b,
                            const VerifyOptions& o) {
  Verification v;
  v.matches = detail::match_checked(a, b, o.match);
  const int64_t m = v.matches.size();
  v.inlier_mask = torch::zeros({m}, torch::kBool);
  if (m < min_matches(o.model)) return v;
  if (o.model == "none") {
    v.inliers = m;
    v.inlier_mask.fill_(true);
    return v;
  }
#ifdef LOOKALIKE_HAVE_OPENCV
  auto src = a.keypoints.index_select(0, v.matches.pairs.select(1, 0)).slice(1, 0, 2).contiguous();
  auto dst = b.keypoints.index_select(0, v.matches.pairs.select(1, 1)).slice(1, 0, 2).contiguous();
  const cv::Mat ms(static_cast<int>(m), 1, CV_32FC2, src.data_ptr<float>());
  const cv::Mat md(static_cast<int>(m), 1, CV_32FC2, dst.data_ptr<float>());
  cv::Mat mask;
  cv::Mat h = fit(ms, md, o, mask);
  if (h.empty() || mask.empty()) return v;
  auto flags = torch::from_blob(mask.data, {m}, torch::kUInt8).to(torch::kBool);
  v.inlier_mask = flags;
  v.inliers = flags.sum().item<int64_t>();
  v.transform = torch::from_blob(h.ptr<double>(), {3, 3}, torch::kFloat64).clone();
  return v;
#else
  throw Error("verify_pair: geometric verification needs OpenCV, which this build lacks");
#endif
}

}  // namespace

Verification verify_pair(const LocalFeatures& a, const LocalFeatures& b,
                         const VerifyOptions& options) {
  validate(options);
  check_features(a, "verify_pair: a");
  check_features(b, "verify_pair: b");
  return verify_checked(a, b, options);
}

torch::Tensor verify_pairs(const std::vector<LocalFeatures>& queries,
                           const std::vector<LocalFeatures>& candidates, const torch::Tensor& pairs,
                           const VerifyOptions& options, int threads) {
  validate(options);
  LOOKALIKE_CHECK_ARG(pairs.defined() && pairs.dim() == 2 && pairs.size(1) == 2 &&
                          pairs.scalar_type() == torch::kInt64,
                      "verify_pairs: pairs must be int64 [P, 2] (query row, candidate row)");
  const auto p = pairs.contiguous();
  const int64_t n = p.size(0);
  const int64_t* rows = p.data_ptr<int64_t>();
  const auto nq = static_cast<int64_t>(queries.size());
  const auto nc = static_cast<int64_t>(candidates.size());
  for (int64_t i = 0; i < n; ++i)
    LOOKALIKE_CHECK_ARG(
        rows[2 * i] >= 0 && rows[2 * i] < nq && rows[2 * i + 1] >= 0 && rows[2 * i + 1] < nc,
        "verify_pairs: pair ", i, " (", rows[2 * i], ", ", rows[2 * i + 1],
        ") is out of range for ", nq, " queries and ", nc, " candidates");
  // each feature set a pair uses is checked once here, not once per pair
  std::vector<char> seen_q(queries.size(), 0), seen_c(candidates.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    const auto q = static_cast<size_t>(rows[2 * i]), c = static_cast<size_t>(rows[2 * i + 1]);
    if (!seen_q[q])
      check_features(queries[q], ::lookalike::detail::concat("verify_pairs: query ", q));
    if (!seen_c[c])
      check_features(candidates[c], ::lookalike::detail::concat("verify_pairs: candidate ", c));
    seen_q[q] = seen_c[c] = 1;
  }
  auto out = torch::zeros({n, 2}, torch::kInt64);
  int64_t* counts = out.data_ptr<int64_t>();
  util::parallel_rows(n, threads, [&](int64_t i) {
    const auto v = verify_checked(queries[static_cast<size_t>(rows[2 * i])],
                                  candidates[static_cast<size_t>(rows[2 * i + 1])], options);
    counts[2 * i] = v.matches.size();
    counts[2 * i + 1] = v.inliers;
  });
  return out;
}

}  // namespace lookalike::local
