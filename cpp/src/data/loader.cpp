#include "lookalike/data/loader.h"

#include <random>

#include "lookalike/data/dataset.h"
#include "lookalike/data/sampler.h"
#include "lookalike/error.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/rng.h"
#include "lookalike/util/threads.h"

namespace lookalike::data {

EpochLoader::EpochLoader(torch::Tensor images, torch::Tensor labels, LoaderOptions options,
                         int64_t epoch)
    : images_(std::move(images)),
      labels_(std::move(labels)),
      options_(std::move(options)),
      epoch_(epoch) {
  check_images_labels(images_, labels_, "EpochLoader");
  LOOKALIKE_CHECK_ARG(options_.batch_size > 0, "batch_size must be positive, got ",
                      options_.batch_size);
  LOOKALIKE_CHECK_ARG(
      options_.augment == "none" || options_.augment == "flip" || options_.augment == "flip_crop",
      "augment must be 'none', 'flip' or 'flip_crop', got '", options_.augment, "'");
  LOOKALIKE_CHECK_ARG(
      options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size,
      "loader rank must be in [0, world_size), got rank ", options_.rank, " of world_size ",
      options_.world_size);
  LOOKALIKE_CHECK_ARG(options_.sampler == "random" || options_.sampler == "class_balanced",
                      "sampler must be 'random' or 'class_balanced', got '", options_.sampler, "'");
  const int64_t n = labels_.size(0);
  if (options_.sampler == "class_balanced") {
    order_ =
        torch::tensor(class_balanced_order(labels_, options_.samples_per_class, options_.batch_size,
                                           util::mix_seed(options_.seed, uint64_t(epoch_))),
                      torch::kLong);
  } else if (options_.shuffle) {
    order_ = torch::tensor(util::permutation(n, util::mix_seed(options_.seed, uint64_t(epoch_))),
                           torch::kLong);
  } else {
    order_ = torch::arange(n, torch::kLong);
  }
  const int64_t len = order_.size(0);
  num_batches_ = options_.drop_last ? len / options_.batch_size
                                    : (len + options_.batch_size - 1) / options_.batch_size;
  worker_ = std::thread([this] { run(); });
}

EpochLoader::~EpochLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Batch EpochLoader::make_batch(int64_t b) const {
  const int64_t n = order_.size(0);
  const int64_t start = b * options_.batch_size;
  const int64_t end = std::min(n, start + options_.batch_size);
  const int64_t global = end - start;
  // This rank's rows of the global batch (all of it in one process).
  const int64_t lo = global * options_.rank / options_.world_size;
  const int64_t hi = global * (options_.rank + 1) / options_.world_size;
  Batch batch;
  batch.global_size = global;
  batch.indices = order_.slice(0, start + lo, start + hi);
  batch.labels = labels_.index_select(0, batch.indices);
  torch::Tensor x = images_.index_select(0, batch.indices);
  x = x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat).div_(255.0f) : x.contiguous();
  if (options_.augment != "none") {
    // Per-batch seed: the augmentation of batch b in epoch e depends on (seed, e, b) only, drawn
    // for the whole global batch so that a rank's rows get what one process gives them.
    std::mt19937_64 rng(
        util::mix_seed(util::mix_seed(options_.seed, uint64_t(epoch_)), uint64_t(b)));
    const int64_t h = x.size(2), w = x.size(3);
    std::vector<int64_t> flip;
    for (int64_t i = 0; i < global; ++i)
      if (util::bounded(rng, 2) && i >= lo && i < hi) flip.push_back(i - lo);
    if (!flip.empty()) {
      auto idx = torch::tensor(flip, torch::kLong);
      x.index_copy_(0, idx, x.index_select(0, idx).flip({3}));
    }
    if (options_.augment == "flip_crop") {
      const int64_t pad = 4;
      auto padded = torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0.0);
      for (int64_t i = 0; i < global; ++i) {
        const auto dy = static_cast<int64_t>(util::bounded(rng, 2 * pad + 1));
        const auto dx = static_cast<int64_t>(util::bounded(rng, 2 * pad + 1));
        if (i >= lo && i < hi) x[i - lo].copy_(padded[i - lo].narrow(1, dy, h).narrow(2, dx, w));
      }
    }
  }
  batch.images = x;
  return batch;
}

void EpochLoader::run() {
  util::limit_this_thread(1);       // leave the cores to the training thread's pool
  const util::CpuCacheScope cache;  // batches of the same size, freed by the training thread
  try {
    for (int64_t b = 0; b < num_batches_; ++b) {
      Batch batch = make_batch(b);
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || static_cast<int>(queue_.size()) < options_.prefetch; });
      if (stop_) return;
      queue_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = true;
  cv_.notify_all();
}

std::optional<Batch> EpochLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return !queue_.empty() || done_; });
  if (!queue_.empty()) {
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }
  if (error_) std::rethrow_exception(error_);
  return std::nullopt;
}

}  // namespace lookalike::data
