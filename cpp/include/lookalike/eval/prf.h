#pragma once
// Precision, recall and F1: the one definition every area uses (matcher thresholds, matcher
// quality, label-issue detection, cluster pair scores), equal to scikit-learn's
// precision_recall_fscore_support for the positive class with a chosen zero_division.
#include <cstdint>

#include <torch/types.h>

namespace lookalike::eval {

struct Prf {
  double precision = 0, recall = 0, f1 = 0;
  int64_t true_positives = 0, predicted = 0, actual = 0;
};

/// From counts: precision tp / predicted, recall tp / actual (`zero_division` where the
/// denominator is 0), F1 = 2 P R / (P + R) (0 when P + R = 0).
Prf prf(double tp, double predicted, double actual, double zero_division = 0.0);

/// From masks: `predicted` and `actual` bool [m] (same shape).
Prf prf(const torch::Tensor& predicted, const torch::Tensor& actual, double zero_division = 0.0);

}  // namespace lookalike::eval
