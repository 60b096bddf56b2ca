#pragma once
// Private to train/: data-parallel training over the ranks of dist::world(). Every rank builds
// the same networks (rank 0's weights are broadcast to be sure), takes its rows of each global
// batch (data/loader.h), scales its batch loss by its share (rows / global rows) so that the
// gradients summed over ranks are those of the whole batch, and sums them in buckets before the
// optimizer steps; the optimizers then stay identical without further exchange. Epoch counters
// and per-sample filter sums are summed over ranks, batch-norm running statistics averaged.
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lookalike/data/dataset.h"
#include "lookalike/dist/world.h"
#include "lookalike/noisy/filter.h"
#include "lookalike/train/trainer.h"
#include "networks.h"

namespace lookalike::train::detail {

/// Why a run with these options follows another trajectory on another number of ranks ("" when
/// it does not): a filter that selects samples within a batch selects within each rank's share;
/// a metric loss mines pairs within it. A checkpoint of such a run resumes on its world size only.
std::string world_size_dependence(const TrainOptions& o);

class DataParallel {
 public:
  /// The ranks of this fit: dist::world() when options.distributed is "auto", else one.
  explicit DataParallel(const TrainOptions& o);
  int rank() const { return world_ ? world_->rank() : 0; }
  int size() const { return world_ ? world_->size() : 1; }
  bool on() const { return size() > 1; }
  bool root() const { return rank() == 0; }

  /// Checks that every rank trains with the same options, data (size, shapes, a label checksum)
  /// and start (`resume`: afresh, or from which checkpoint); throws DistError naming what differs.
  void check_start(const TrainOptions& o, const data::Dataset& train, const std::string& resume);
  /// Checks that every rank holds the same `text` (dist::check_same).
  void check_same(const std::string& text, const char* what);
  /// Rank 0's parameters and buffers on every rank (after init and after a resume).
  void broadcast_weights(Networks& w);
  /// The gradients of the optimizer's parameters summed over ranks, in buckets of `bucket_mb`.
  void sum_gradients(torch::optim::Optimizer& opt);
  /// Sums each value over ranks.
  void sum(std::vector<double>& values, const char* what);
  /// Batch-norm running statistics averaged over ranks (each normalised by its own share).
  void average_buffers(Networks& w);
  /// True on every rank when `flag` is true on any.
  bool any(bool flag, const char* what);
  /// Rank 0's tensor (any dtype, CPU) on every rank.
  torch::Tensor from_root(const torch::Tensor& t, const char* what);
  /// Per-sample filter sums (SampleFilter::summed_state): remember them before an epoch, then
  /// add every rank's additions to them after it.
  void begin_epoch(const noisy::SampleFilter& filter);
  void end_epoch(noisy::SampleFilter& filter);
  void barrier(const char* what);
  /// Seconds spent in the gradients' all-reduce since the last call (the communication cost).
  double take_comm_seconds();

 private:
  double comm_seconds_ = 0;
  dist::World* world_ = nullptr;
  double bucket_bytes_;
  std::map<std::string, torch::Tensor> filter_base_;
};

}  // namespace lookalike::train::detail
