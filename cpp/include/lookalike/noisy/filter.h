#pragma once
// In-training sample filters for noisy labels: one interface, one file per strategy
// (cpp/src/noisy/filters/), chosen by TrainOptions::filter.filter.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::noisy {

struct FilterOptions {
  // "none" | "small_loss" | "coteaching" | "coteaching_plus" | "jocor" | "loss_history" |
  // "confident_learning"
  std::string filter = "none";
  double forget_rate = 0.2;            // tau: the share of each batch dropped once ramped up
  int num_gradual = 10;                // T_k: epochs to ramp the dropped share up to tau
  double exponent = 1.0;               // c: R(t) = 1 - tau min((t / T_k)^c, 1)
  double jocor_lambda = 0.9;           // jocor: weight of the co-regularisation (agreement) term
  int coteaching_plus_init_epoch = 5;  // coteaching_plus: disagreement-only from this epoch
  int history_epochs = 0;              // loss_history: detection epochs (0: half the budget)
  int history_cycle = 2;               // loss_history: epochs per cyclic learning-rate cycle
  double history_min_lr_ratio = 0.01;  // loss_history: cycle goes from lr down to lr x this
  int cl_folds = 4;                    // confident_learning: K of the cross-training
  int cl_epochs = 0;                   // confident_learning: epochs per fold model (0: half)
  std::string cl_filter_by = "prune_by_noise_rate";
};
LOOKALIKE_OPTIONS(FilterOptions, filter, forget_rate, num_gradual, exponent, jocor_lambda,
                  coteaching_plus_init_epoch, history_epochs, history_cycle, history_min_lr_ratio,
                  cl_folds, cl_epochs, cl_filter_by)

/// The registered filter names ("coteaching", "none", ...), sorted.
std::vector<std::string> filters();

/// Throws InvalidArgument naming the first bad option.
void validate(const FilterOptions& options);

/// Share of each batch kept at (0-based) epoch t: 1 - tau min((t / T_k)^c, 1).
double keep_fraction(const FilterOptions& options, int epoch);

class SampleFilter {
 public:
  virtual ~SampleFilter() = default;
  /// Networks trained side by side (co-teaching family: 2).
  virtual int networks() const { return 1; }
  /// The loss of one batch (summed over networks; they share nothing, so one optimizer over
  /// all their parameters updates each by its own term). logits: float [B, C] per network;
  /// kept (out): bool [B], the samples the first network learns from.
  virtual torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits,
                                   const torch::Tensor& labels, const torch::Tensor& indices,
                                   int epoch, torch::Tensor& kept) = 0;
  /// Learning rate for a fractional epoch t, given the Trainer's own schedule value.
  virtual double lr(int epoch, double t, double scheduled) const { return scheduled; }
  /// After epoch `epoch`: true when the networks and optimizer must start afresh (a filter
  /// that detected its clean set and now retrains on it).
  virtual bool end_epoch(int epoch) { return false; }
  /// State that a checkpoint must carry (tensors by name) and its restoration.
  virtual std::map<std::string, torch::Tensor> state() const { return {}; }
  virtual void load_state(const std::map<std::string, torch::Tensor>& state) {}
  /// The state tensors that batch_loss adds to per sample (e.g. loss sums): in a data-parallel
  /// run each rank adds for its own samples, and after each epoch every rank's additions are
  /// summed (train/data_parallel.h) before end_epoch, so all ranks hold what one process would.
  virtual std::vector<std::string> summed_state() const { return {}; }
};

/// The filter named by options.filter for a training set of n samples and `epochs` epochs.
/// confident_learning needs `excluded` (bool [n], the detected issues).
std::unique_ptr<SampleFilter> make_filter(const FilterOptions& options, int64_t n, int epochs,
                                          double base_lr, const torch::Tensor& excluded = {});

namespace detail {
// Per-sample cross-entropy (float [B]).
torch::Tensor per_sample_ce(const torch::Tensor& logits, const torch::Tensor& labels);
// Bool [B] marking the ceil(keep x B) smallest entries of `loss` (ties to the lower index).
torch::Tensor smallest(const torch::Tensor& loss, double keep);
// Mean of `loss` over the kept entries (0 with a live graph when none is kept).
torch::Tensor masked_mean(const torch::Tensor& loss, const torch::Tensor& kept);
}  // namespace detail

/// What a filter's factory receives: the options, the training set's size n, the epochs, the
/// base learning rate and (confident_learning) the detected issues, bool [n].
struct FilterArgs {
  const FilterOptions& options;
  int64_t n;
  int epochs;
  double base_lr;
  const torch::Tensor& excluded;
};
using FilterFactory = std::unique_ptr<SampleFilter> (*)(const FilterArgs&);
/// The filters by name: each file in cpp/src/noisy/filters/ registers its own
/// (LOOKALIKE_REGISTER, util/registry.h).
util::Registry<FilterFactory>& filter_registry();

}  // namespace lookalike::noisy
