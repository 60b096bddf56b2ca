#pragma once
// Re-ranking a global index's candidates by geometric verification (spatial verification,
// Philbin et al. 2007; DELG's re-ranking): each query's top-K candidates are verified
// (verify_pairs) and re-ordered by
//   "inliers": candidates with at least min_inliers inliers first, by inlier count (ties: the
//              global order), then the others in the global order;
//   "fused":   global_weight x global score + inlier_weight x min(inliers, inlier_cap) /
//   inlier_cap.
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/local/verify.h"
#include "lookalike/util/options.h"

namespace lookalike::local {

struct RerankOptions {
  int64_t top_k = 100;            // candidates verified per query (the first top_k columns)
  std::string score = "inliers";  // "inliers" | "fused"
  int64_t min_inliers = 8;        // inliers: fewer is treated as unverified
  double global_weight = 1.0;     // fused
  double inlier_weight = 1.0;     // fused
  double inlier_cap = 50.0;       // fused: inliers beyond this add nothing
  VerifyOptions verify;
  int threads = 0;  // <= 0: torch's count
};
LOOKALIKE_OPTIONS(RerankOptions, top_k, score, min_inliers, global_weight, inlier_weight,
                  inlier_cap, verify, threads)

/// The re-ranked lists, each [Q, K] (K = the input's columns; columns past top_k keep their
/// global order after the re-ranked ones).
///   ids: int64 (the input's ids; -1 padding stays last), scores: float (the ordering score:
///   inlier count for "inliers", the fused score for "fused", the global score past top_k),
///   inliers: int64 (-1 where not verified), matches: int64 (-1 where not verified)
struct Reranked {
  torch::Tensor ids, scores, inliers, matches;
};

void validate(const RerankOptions& options);

/// The verification of each query's first top_k candidates, each int64 [Q, K] aligned with ids
/// (-1 where not verified: past top_k, or no candidate).
struct Verified {
  torch::Tensor inliers, matches;
};
Verified verify_top_k(const torch::Tensor& ids, const std::vector<LocalFeatures>& queries,
                      const std::vector<LocalFeatures>& candidates, const RerankOptions& options);

/// The re-ordering alone, from verify_top_k's counts (so that several scores reuse one
/// verification).
Reranked reorder(const torch::Tensor& ids, const torch::Tensor& global_scores,
                 const Verified& verified, const RerankOptions& options);

/// verify_top_k then reorder. ids int64 [Q, K] and global_scores float [Q, K] (higher is better,
/// each row in descending order, as an index search returns them); ids index `candidates` (-1:
/// none). queries[q] are row q's features.
Reranked rerank(const torch::Tensor& ids, const torch::Tensor& global_scores,
                const std::vector<LocalFeatures>& queries,
                const std::vector<LocalFeatures>& candidates, const RerankOptions& options = {});

}  // namespace lookalike::local
