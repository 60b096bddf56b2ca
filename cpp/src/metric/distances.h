#pragma once
// Private to metric/: the similarities and distances the losses and miners share.
#include <torch/torch.h>

namespace lookalike::metric::detail {

/// L2-normalised rows of x float [B, D].
inline torch::Tensor normalized(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

/// Cosine similarities of the rows of a [B, D] and b [M, D]: float [B, M].
inline torch::Tensor cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return normalized(a).matmul(normalized(b).t());
}

/// Euclidean distances between the L2-normalised rows i[k] and j[k] of x: float [K]. Computed
/// per pair (not from a matrix) so that no unused zero distance sends NaN gradients back.
inline torch::Tensor pair_distances(const torch::Tensor& x, const torch::Tensor& i,
                                    const torch::Tensor& j) {
  auto e = normalized(x);
  return (e.index_select(0, i) - e.index_select(0, j)).pow(2).sum(1).clamp_min(1e-12).sqrt();
}

/// All Euclidean distances of the L2-normalised rows (no gradient needed): float [B, B].
inline torch::Tensor distance_matrix(const torch::Tensor& x) {
  auto e = normalized(x);
  return (2.0 - 2.0 * e.matmul(e.t())).clamp_min(0).sqrt();
}

/// Mean over the entries greater than zero (pytorch-metric-learning's AvgNonZeroReducer); 0
/// with a live graph when there are none.
inline torch::Tensor mean_nonzero(const torch::Tensor& losses) {
  auto n = (losses > 0).sum();
  return losses.sum() / n.clamp_min(1).to(losses.scalar_type());
}

/// log(1 + sum over the kept entries of exp(x)) along `dim`: float with `dim` removed.
inline torch::Tensor logsumexp_add_one(const torch::Tensor& x, const torch::Tensor& keep,
                                       int64_t dim) {
  auto masked = x.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
  auto zero = torch::zeros_like(masked.select(dim, 0)).unsqueeze(dim);
  return torch::logsumexp(torch::cat({masked, zero}, dim), dim);
}

}  // namespace lookalike::metric::detail
