#pragma once
// Per-tag decision thresholds chosen on a validation set and applied unchanged on test.
#include <string>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::eval {

struct ThresholdOptions {
  // "f1": the threshold of best F1; "precision": the lowest threshold whose precision reaches
  // `precision` (the most recall at that precision).
  std::string rule = "f1";
  double precision = 0.9;  // rule "precision"
  // A column without a positive: this threshold (counted in `fallback`).
  double fallback = 0.5;
};
LOOKALIKE_OPTIONS(ThresholdOptions, rule, precision, fallback)

/// InvalidArgument naming the first bad option.
void validate(const ThresholdOptions& options);

/// Per column: threshold float [K]; on the validation set at that threshold f1, precision,
/// recall float [K]; fallback bool [K] (no positive: options.fallback; precision not reachable:
/// a threshold above every score, so nothing is predicted).
struct Thresholds {
  torch::Tensor threshold, f1, precision, recall, fallback;
};

/// Chooses each column's threshold from scores float [N, K] and 0/1 targets [N, K]: a photo is
/// predicted to have the tag when its score >= the threshold. Candidates are the distinct
/// scores; the chosen one is moved halfway to the next lower distinct score (the middle of the
/// gap where the validation decisions do not change). Ties between candidates: the higher.
Thresholds choose_thresholds(const torch::Tensor& scores, const torch::Tensor& targets,
                             const ThresholdOptions& options = {});

/// The precision-recall curve of scores float [N] against 0/1 targets [N] (at least one
/// positive), as scikit-learn's precision_recall_curve without its final (1, 0) point: one point
/// per distinct score, highest first; precision, recall, threshold float [P].
struct PrCurve {
  torch::Tensor precision, recall, threshold;
};
PrCurve precision_recall_curve(const torch::Tensor& scores, const torch::Tensor& targets);

}  // namespace lookalike::eval
