#pragma once
// The one "drop the query itself" helper: a set searched against itself finds each query as its
// own nearest neighbour (or, with ties, anywhere in its list). Searching k + 1 and dropping it
// gives the k true neighbours. Used by exact kNN, BM25, retrieval metrics and the duplicate study.
#include <cstdint>
#include <utility>

#include <torch/types.h>

namespace lookalike::index {

/// Per row r, the first n entries of `ids` (int64 [rows, k]) that are neither the row's own id
/// (first_row + r) nor -1 (padding), with their `scores` (float32 [rows, k]; may be undefined,
/// then the result's scores are too). Rows with fewer are padded with id -1 and score 0.
/// Returns (ids int64 [rows, n], scores float32 [rows, n]).
std::pair<torch::Tensor, torch::Tensor> drop_self(const torch::Tensor& ids,
                                                  const torch::Tensor& scores, int64_t n,
                                                  int64_t first_row = 0);

}  // namespace lookalike::index
