#pragma once
// Pair features for the matcher: how alike two listings are by each embedding, hash, title and
// attribute.
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace lookalike::dedup {

/// Pair features for the matcher, float64 [m, f], and their names. Per embedding: cosine;
/// with phash: 1 - Hamming / 64; with titles: word Jaccard, the shorter/longer length ratio and
/// the share of code words (3+ characters with a digit: model numbers) both titles carry; per
/// categorical attribute: 1 equal (case-insensitive), 0 different, 0.5 unknown; per numeric
/// attribute: min/max ratio and a "present" flag (0 ratio when either is missing).
struct PairFeatureInputs {
  std::vector<std::string> embedding_names;
  std::vector<torch::Tensor> embeddings;  // float32 [N, d], L2-normalised
  torch::Tensor phash;                    // uint8 [N, 8] or undefined
  std::vector<std::string> titles;        // [N] or empty
  std::vector<std::string> attr_names;
  std::vector<std::vector<std::string>> attrs;  // [a][N]
  std::vector<bool> numeric;                    // [a]: compare as numbers
};
std::pair<torch::Tensor, std::vector<std::string>> pair_features(const torch::Tensor& pairs,
                                                                 const PairFeatureInputs& in);

}  // namespace lookalike::dedup
