#pragma once
// Private to cpp/src/noisy: sample indices grouped by label.
#include <torch/types.h>

#include <vector>

namespace lookalike::noisy::detail {

/// members[c] = the indices i with labels[i] == c, in index order. labels: int64 [N] in [0, c).
inline std::vector<std::vector<int64_t>> members_by_class(const torch::Tensor& labels, int64_t c) {
  auto y = labels.cpu().contiguous();
  const int64_t* yp = y.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(c));
  for (int64_t i = 0; i < y.numel(); ++i) members[static_cast<size_t>(yp[i])].push_back(i);
  return members;
}

}  // namespace lookalike::noisy::detail
