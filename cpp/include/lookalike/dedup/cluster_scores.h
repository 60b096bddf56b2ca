#pragma once
// How well a clustering of the catalogue matches the true duplicate groups.
#include <torch/types.h>

namespace lookalike::dedup {

/// Cluster-level scores of a clustering `pred` against true `groups` (int64 [N]), averaged
/// over `rows` (all when undefined): mean per-item F1 of the predicted vs the true group of
/// each item, both including the item (Shopee's metric), and pairwise precision/recall/F1.
struct ClusterScores {
  double mean_f1 = 0, pair_precision = 0, pair_recall = 0, pair_f1 = 0;
};
ClusterScores cluster_scores(const torch::Tensor& pred, const torch::Tensor& groups,
                             const torch::Tensor& rows = {});

}  // namespace lookalike::dedup
