#pragma once
// The class-balanced batch order metric learning trains with (pytorch-metric-learning's
// MPerClassSampler): every batch holds batch_size / m classes with m images each.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace lookalike::data {

/// An epoch's order of sample indices: floor(N / batch_size) batches (at least one) of
/// batch_size / m classes, m images each. Classes are visited in a seeded shuffled cycle, and
/// each class's images in their own shuffled cycle (a class with fewer than m images repeats
/// some). labels: int64 [N]. InvalidArgument when batch_size is not a multiple of m, a class
/// has a single image (it can form no positive pair), or fewer classes than a batch needs.
std::vector<int64_t> class_balanced_order(const torch::Tensor& labels, int64_t samples_per_class,
                                          int64_t batch_size, uint64_t seed);

}  // namespace lookalike::data
