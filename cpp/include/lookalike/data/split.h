#pragma once
// Deterministic, seeded splits of item indices.
#include <cstdint>

#include <torch/types.h>

namespace lookalike::data {

struct Split {
  torch::Tensor first;   // int64 indices, sorted
  torch::Tensor second;  // int64 indices, sorted
};

/// Splits 0..n-1 at random into round(n * first_fraction) and the rest, determined by `seed`.
/// With `labels` (int64 [n]) the split is stratified: each class is split in that fraction.
Split random_split(int64_t n, double first_fraction, uint64_t seed,
                   const torch::Tensor& labels = {});

}  // namespace lookalike::data
