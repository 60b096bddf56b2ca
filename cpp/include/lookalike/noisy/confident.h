#pragma once
// Confident learning (Northcutt et al., JAIR 2021): per-class confidence thresholds, the
// confident joint, label-issue detection by its pruning rules, out-of-fold probabilities.
#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

#include "lookalike/data/dataset.h"

namespace lookalike::noisy {

/// Per-class thresholds t_j: the mean predicted probability of class j over the samples
/// labelled j (float64 [C]).
torch::Tensor class_thresholds(const torch::Tensor& labels, const torch::Tensor& pred_probs);

/// The confident joint C[i][j] (int64 [C, C]): samples labelled i whose probability of j
/// reaches t_j (the most probable such j when several do). With calibrate, rows are rescaled
/// to the given-label counts and the whole to N, as float64 (cleanlab's calibration).
torch::Tensor confident_joint(const torch::Tensor& labels, const torch::Tensor& pred_probs,
                              bool calibrate = false);

/// Estimated share of wrong labels: off-diagonal mass of the calibrated confident joint.
double estimate_noise_rate(const torch::Tensor& labels, const torch::Tensor& pred_probs);

/// Label issues (bool [N]). filter_by:
///   "confident_learning": samples off the diagonal of the confident joint;
///   "prune_by_class": per class i, the (calibrated off-diagonal row sum of i) samples labelled
///       i with the lowest self-confidence p[i];
///   "prune_by_noise_rate": per off-diagonal (i, j), the C[i][j] samples labelled i with the
///       largest margin p[j] - p[i];
///   "both": flagged by both pruning rules.
/// frac_noise scales every count (1: remove the estimated number).
torch::Tensor find_label_issues(const torch::Tensor& labels, const torch::Tensor& pred_probs,
                                const std::string& filter_by = "prune_by_noise_rate",
                                double frac_noise = 1.0);

/// Sample indices ordered by self-confidence p[label], least confident first (int64 [N]).
torch::Tensor rank_by_self_confidence(const torch::Tensor& labels, const torch::Tensor& pred_probs);

/// Trains a model on one fold's training part and predicts the held-out part: returns class
/// probabilities (float32 [M, C]) of `held_out` (images [M, ...]). `fold` is 0-based; the
/// model must output `num_classes` classes.
using FoldFit =
    std::function<torch::Tensor(const data::Dataset& train_part, const torch::Tensor& held_out,
                                int64_t num_classes, int64_t fold)>;

/// Out-of-fold predicted probabilities (float32 [N, C]) by K-fold cross-training: the folds are
/// stratified and seeded; fold f is predicted by `fit` trained on the other folds (as cleanlab's
/// estimate_cv_predicted_probabilities takes any classifier). num_classes <= 0: max label + 1.
/// The Trainer's version is train::cross_val_pred_probs.
torch::Tensor cross_val_pred_probs(const data::Dataset& set, int64_t folds, int64_t num_classes,
                                   const FoldFit& fit, uint64_t seed = 0);

/// Throws InvalidArgument unless pred_probs is float [N, C] with N = labels.numel(), rows in
/// [0, 1] summing to 1 (tolerance 1e-3), and labels lie in [0, C).
void check_pred_probs(const torch::Tensor& labels, const torch::Tensor& pred_probs);

}  // namespace lookalike::noisy
