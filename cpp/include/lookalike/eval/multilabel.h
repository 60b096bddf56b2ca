#pragma once
// Multi-label metrics besides average precision (eval/average_precision.h), as scikit-learn
// computes them: F1 of 0/1 predictions per column, macro and micro (f1_score with
// zero_division=0), precision@k of the tags ranked per photo, and coverage (coverage_error).
#include <map>
#include <string>

#include <torch/types.h>

namespace lookalike::eval {

/// F1 per column of predictions [N, K] against targets [N, K] (both 0/1, any numeric dtype):
/// 2 TP / (2 TP + FP + FN), 0 where that is 0 / 0. float [K].
torch::Tensor f1_per_column(const torch::Tensor& predictions, const torch::Tensor& targets);

/// {"macro": mean of f1_per_column over all K columns, "micro": F1 of the pooled counts,
/// "precision", "recall" (micro), "predicted_per_photo": mean number of predicted tags}.
std::map<std::string, double> f1_scores(const torch::Tensor& predictions,
                                        const torch::Tensor& targets);

/// Mean over photos of the share of true tags among each photo's k highest scores (ties: the
/// lower column first); scores float [N, K], targets 0/1 [N, K], 1 <= k <= K.
double precision_at_k(const torch::Tensor& scores, const torch::Tensor& targets, int64_t k);

/// scikit-learn's coverage_error: the mean over photos of how far down the photo's ranking of
/// tags one must go to cover all its true tags (ties count at their worst rank; a photo with no
/// true tag counts 0).
double coverage_error(const torch::Tensor& scores, const torch::Tensor& targets);

/// 0/1 predictions float [N, K]: scores [N, K] >= thresholds [K] (column by column).
torch::Tensor apply_thresholds(const torch::Tensor& scores, const torch::Tensor& thresholds);

}  // namespace lookalike::eval
