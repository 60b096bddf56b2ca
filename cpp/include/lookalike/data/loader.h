#pragma once
// Mini-batches prepared by a background thread (gather, convert, augment) into a bounded
// queue, so that the training thread only computes.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::data {

struct Batch {
  torch::Tensor images;     // float32 [B, C, H, W] in [0, 1]
  torch::Tensor labels;     // int64 [B]
  torch::Tensor indices;    // int64 [B]: positions in the dataset (for per-sample bookkeeping)
  int64_t global_size = 0;  // the whole batch's size over all ranks (B when world_size is 1)
};

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;             // the order of epoch e is a function of (seed, e) alone
  std::string augment = "none";  // "none", "flip" (horizontal), "flip_crop" (+ 4 px pad-crop)
  int prefetch = 3;              // batches queued ahead
  // "random" (a permutation; shuffle off: in order) or "class_balanced" (data/sampler.h:
  // batch_size / samples_per_class classes per batch, samples_per_class images each)
  std::string sampler = "random";
  int64_t samples_per_class = 4;
  // Data-parallel share: every rank orders and augments the epoch's global batches alike and
  // takes rows [B r / W, B (r + 1) / W) of each, so W ranks together see what one process sees.
  int rank = 0;
  int world_size = 1;
};
LOOKALIKE_OPTIONS(LoaderOptions, batch_size, shuffle, drop_last, seed, augment, prefetch, sampler,
                  samples_per_class, rank, world_size)

/// Iterates one epoch of (images, labels) in batches. images: uint8 or float [N, C, H, W];
/// labels: int64 [N]. Construction starts the worker; destruction stops it.
class EpochLoader {
 public:
  EpochLoader(torch::Tensor images, torch::Tensor labels, LoaderOptions options, int64_t epoch);
  ~EpochLoader();
  EpochLoader(const EpochLoader&) = delete;
  EpochLoader& operator=(const EpochLoader&) = delete;

  /// The next batch, or nullopt at the end of the epoch. Rethrows a worker's error.
  std::optional<Batch> next();
  int64_t num_batches() const { return num_batches_; }

 private:
  void run();
  Batch make_batch(int64_t b) const;

  torch::Tensor images_, labels_, order_;
  LoaderOptions options_;
  int64_t epoch_;
  int64_t num_batches_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace lookalike::data
