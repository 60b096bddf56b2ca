#pragma once
// Candidate lists of the duplicate study: Hamming candidates over perceptual hashes, a
// candidate's score looked up in a list, and the unique (row, candidate) pairs of several lists.
// (The query itself is dropped by index::drop_self.)
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace lookalike::dedup {

/// For every row, the n rows with the nearest 64-bit perceptual hash (uint8 [N, 8]) by Hamming
/// distance, itself excluded, through a FAISS binary index. (ids int64 [N, n], distances
/// float32 [N, n] in bits). Needs FAISS.
std::pair<torch::Tensor, torch::Tensor> hamming_candidates(const torch::Tensor& codes, int64_t n);

/// Score of each pair (q, c) (int64 [m, 2]) in q's candidate list (ids [N, n], scores
/// [N, n] indexed by row); `fill` where c is not among q's candidates.
torch::Tensor lookup_scores(const torch::Tensor& pairs, const torch::Tensor& ids,
                            const torch::Tensor& scores, float fill);

/// The unique pairs (row, candidate), int64 [m, 2] sorted by row then candidate, found in the
/// first n entries of rows `rows` (int64 [q]) of each list (ids int64 [N, >= n], indexed by
/// row; -1 entries skipped).
torch::Tensor candidate_pairs(const torch::Tensor& rows, const std::vector<torch::Tensor>& lists,
                              int64_t n);

/// bool [q, n]: candidate (query_rows[i], ids[query_rows[i]][j]) is one of `pairs` (int64 [m, 2],
/// e.g. the pairs a matcher accepts); ids int64 [N, n] indexed by row, -1 never matches.
torch::Tensor pairs_in(const torch::Tensor& query_rows, const torch::Tensor& ids,
                       const torch::Tensor& pairs);

}  // namespace lookalike::dedup
