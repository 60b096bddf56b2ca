#pragma once
// Geometric verification of two images' matched local features: a transform from a's keypoints
// to b's is fitted robustly (OpenCV: cv::findHomography with USAC_MAGSAC or RANSAC,
// cv::estimateAffinePartial2D, cv::estimateAffine2D) and the score is its inlier count. Batched
// over many (query, candidate) pairs with OpenMP, one pair per thread.
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/local/features.h"
#include "lookalike/local/match.h"
#include "lookalike/util/options.h"

namespace lookalike::local {

struct VerifyOptions {
  // "homography" (8 degrees of freedom, >= 4 matches), "affine" (6, >= 3), "similarity"
  // (rotation, uniform scale, translation: 4, >= 2), or "none" (every match counts).
  std::string model = "homography";
  // homography: "magsac" (USAC_MAGSAC) or "ransac"; affine, similarity: "ransac" or "lmeds".
  std::string estimator = "magsac";
  double threshold = 5.0;  // inlier reprojection error, pixels of b (MAGSAC: its upper bound)
  int max_iters = 2000;
  double confidence = 0.995;
  MatchOptions match;
};
LOOKALIKE_OPTIONS(VerifyOptions, model, estimator, threshold, max_iters, confidence, match)

/// The verification of one pair.
///   matches:   the descriptor matches (match_features)
///   inliers:   how many of them agree with the fitted transform (0 when there are fewer
///              matches than the model needs, or no transform was found)
///   transform: float64 [3, 3] mapping a's pixels to b's (affine ones with last row 0 0 1);
///              undefined when none was found
///   inlier_mask: bool [M] over matches
struct Verification {
  Matches matches;
  int64_t inliers = 0;
  torch::Tensor transform;
  torch::Tensor inlier_mask;
};

/// InvalidArgument naming the option unless the model/estimator pair is known and the numbers
/// are in range.
void validate(const VerifyOptions& options);

/// The smallest number of matches `model` is fitted from (homography 4, affine 3, similarity 2,
/// none 1).
int64_t min_matches(const std::string& model);

/// Matches a to b and fits the model.
Verification verify_pair(const LocalFeatures& a, const LocalFeatures& b,
                         const VerifyOptions& options = {});

/// verify_pair of many pairs: pairs int64 [P, 2] (row in queries, row in candidates), run in
/// parallel (threads <= 0: torch's count; OpenCV serial inside). Returns int64 [P, 2]: the
/// match count and the inlier count of each pair.
torch::Tensor verify_pairs(const std::vector<LocalFeatures>& queries,
                           const std::vector<LocalFeatures>& candidates, const torch::Tensor& pairs,
                           const VerifyOptions& options = {}, int threads = 0);

}  // namespace lookalike::local
