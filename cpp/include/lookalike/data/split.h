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

/// A split by class (the zero-shot protocol of metric learning: no class on both sides). Of the k
/// classes present in `labels` (int64 [n]; negative labels belong to no class and go nowhere),
/// round(k * first_fraction) chosen at random by `seed` go first.
///   items:          the item indices of each side (sorted);
///   first_labels:   int64 [items.first.numel()], renumbered 0 .. k1 - 1 in order of class id;
///   first_classes:  int64 [k1], the original label of each new one (second_*: the same).
struct ClassSplit {
  Split items;
  torch::Tensor first_labels, second_labels;
  torch::Tensor first_classes, second_classes;
};
ClassSplit class_split(const torch::Tensor& labels, double first_fraction, uint64_t seed);

/// The items of `labels` (int64 [n]) whose class is one of `classes` (int64 [k], distinct), in
/// order: (indices int64 [m], labels int64 [m] renumbered as the class's position in `classes`).
/// Applies a class split made on one set (e.g. a catalogue) to another (its photos).
std::pair<torch::Tensor, torch::Tensor> select_classes(const torch::Tensor& labels,
                                                       const torch::Tensor& classes);

}  // namespace lookalike::data
