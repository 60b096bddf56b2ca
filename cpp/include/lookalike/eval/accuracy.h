#pragma once
// Top-1 accuracy of class scores against labels.
#include <torch/types.h>

namespace lookalike::eval {

/// Share of rows of `scores` (float [n, C]: probabilities or logits) whose highest-scoring class
/// (torch argmax) equals `labels` (int64 [n]). InvalidArgument for mismatched shapes, labels
/// outside [0, C) or n = 0.
double accuracy(const torch::Tensor& scores, const torch::Tensor& labels);

}  // namespace lookalike::eval
