#pragma once
// Matching the local features of two images: each descriptor of `a` finds its nearest and
// second-nearest in `b`; a match is kept when it passes Lowe's ratio test (nearest distance <
// ratio x second-nearest; L2 distance for float descriptors, Hamming for binary ones) and, with
// `mutual`, when it is also the nearest of `b`'s descriptor in `a`.
#include <string>

#include <torch/types.h>

#include "lookalike/local/features.h"
#include "lookalike/util/options.h"

namespace lookalike::local {

struct MatchOptions {
  double ratio = 0.8;  // Lowe's ratio test; 1: off (with one descriptor in b it is skipped)
  bool mutual = true;  // keep only mutual nearest neighbours
  // "brute" (the full distance matrix, both directions read from it: one GEMM for float
  // descriptors, OpenCV's batchDistance for binary ones), "faiss" (two searches of FAISS flat
  // indexes, L2 or binary Hamming: no |a| x |b| matrix held) or "auto": faiss when |a| x |b| >=
  // faiss_min_pairs. The same matches up to ties and float rounding.
  std::string search = "auto";
  int64_t faiss_min_pairs = int64_t{1} << 24;  // 64 MB of float distances
};
LOOKALIKE_OPTIONS(MatchOptions, ratio, mutual, search, faiss_min_pairs)

/// The matches between two feature sets.
///   pairs:     int64 [M, 2]: (index in a, index in b), ordered by index in a
///   distances: float [M]: the descriptor distance (L2; Hamming bits for binary descriptors)
struct Matches {
  torch::Tensor pairs;
  torch::Tensor distances;
  int64_t size() const { return pairs.size(0); }
};

/// InvalidArgument naming the option unless ratio is in (0, 1] and search is known.
void validate(const MatchOptions& options);

/// Matches a to b. Empty when either has no features. InvalidArgument when the descriptors
/// differ in kind (binary vs float: ORB against SIFT) or width.
Matches match_features(const LocalFeatures& a, const LocalFeatures& b,
                       const MatchOptions& options = {});

}  // namespace lookalike::local
