#pragma once
// Tag-aware search: "items like this photo, with tag T". The visual search's candidates (an
// index's top C per query) are filtered or re-ranked by the gallery's predicted tag scores
// (train/tagger.h), and measured by the share of the top k that carry a tag.
#include <string>
#include <utility>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::index {

struct TagRerankOptions {
  // "filter": the candidates whose score for the wanted tag reaches its threshold, in their
  // visual order; "rerank": all candidates ordered by similarity + weight x tag score
  std::string mode = "rerank";
  double weight = 1.0;  // rerank
  int64_t k = 10;       // results kept per query
};
LOOKALIKE_OPTIONS(TagRerankOptions, mode, weight, k)

/// candidates int64 [Q, C] (gallery rows, -1: none) with their similarities float [Q, C]
/// (higher is closer); tag_scores float [G, T] of the gallery; thresholds float [T] (filter);
/// wanted int64 [Q] (the tag asked for with each query). Returns (ids int64 [Q, k], scores float
/// [Q, k]: the similarity, or the combined score), -1 / NaN padded. InvalidArgument for shapes
/// that disagree, rows or tags out of range, an unknown mode.
std::pair<torch::Tensor, torch::Tensor> tag_rerank(const torch::Tensor& candidates,
                                                   const torch::Tensor& similarities,
                                                   const torch::Tensor& tag_scores,
                                                   const torch::Tensor& thresholds,
                                                   const torch::Tensor& wanted,
                                                   const TagRerankOptions& options = {});

/// Mean over queries with wanted >= 0 of the share of ids [Q, k] (gallery rows, -1: an empty
/// slot, counted as not carrying it) whose targets [G, T] (0/1) have column wanted[q]; NaN when
/// no query counts.
double tag_share_at_k(const torch::Tensor& ids, const torch::Tensor& targets,
                      const torch::Tensor& wanted);

}  // namespace lookalike::index
