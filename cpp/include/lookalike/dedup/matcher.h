#pragma once
// The matcher: L2-regularised logistic regression over pair features (Newton's method), with
// an operating threshold, judging whether a candidate pair is the same product.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::dedup {

struct MatcherOptions {
  double l2 = 1.0;  // penalty 0.5 * l2 * |w|^2 on standardised features (sklearn C = 1/l2)
  int max_iter = 100;
  double tol = 1e-9;  // stop when the Newton step's largest entry is below this
  double threshold = 0.5;
};
LOOKALIKE_OPTIONS(MatcherOptions, l2, max_iter, tol, threshold)

class Matcher {
 public:
  explicit Matcher(MatcherOptions options = {});
  /// Fits on features float64 [m, f] and labels (bool or integer 0/1) [m]; both classes must
  /// occur. Features are standardised with the training mean and deviation.
  void fit(const torch::Tensor& x, const torch::Tensor& y);
  /// Match probability per pair, float64 [m].
  torch::Tensor predict_proba(const torch::Tensor& x) const;
  /// Probability >= threshold.
  torch::Tensor predict(const torch::Tensor& x) const;

  /// A fitted matcher from saved parameters (coef, mean, scale float64 [f]; scale > 0), e.g. one
  /// trained on a catalogue with ground truth and applied to one without.
  static Matcher from_parameters(const torch::Tensor& coef, double intercept,
                                 const torch::Tensor& mean, const torch::Tensor& scale,
                                 MatcherOptions options = {});

  bool fitted() const { return coef_.defined(); }
  double threshold() const { return options_.threshold; }
  void set_threshold(double t);
  torch::Tensor coef() const { return coef_; }  // on the standardised scale, float64 [f]
  double intercept() const { return intercept_; }
  torch::Tensor mean() const { return mean_; }
  torch::Tensor scale() const { return scale_; }
  int iterations() const { return iterations_; }

 private:
  torch::Tensor standardise(const torch::Tensor& x, const char* what) const;
  MatcherOptions options_;
  torch::Tensor coef_, mean_, scale_;
  double intercept_ = 0;
  int iterations_ = 0;
};

/// The threshold on `scores` that maximises F1 against `labels` (bool [m]), with its
/// precision, recall and F1 ({threshold, precision, recall, f1}).
struct ThresholdChoice {
  double threshold = 0.5, precision = 0, recall = 0, f1 = 0;
};
ThresholdChoice best_f1_threshold(const torch::Tensor& scores, const torch::Tensor& labels);

/// Writes a fitted matcher and the names of its features as JSON (format "lookalike.Matcher/1"),
/// atomically: a matcher trained where ground truth exists, applied where it does not.
void save_matcher(const Matcher& matcher, const std::vector<std::string>& features,
                  const std::string& path);
/// Reads what save_matcher wrote: (matcher, feature names). FileError when the file is missing
/// or not a matcher file.
std::pair<Matcher, std::vector<std::string>> load_matcher(const std::string& path);

}  // namespace lookalike::dedup
