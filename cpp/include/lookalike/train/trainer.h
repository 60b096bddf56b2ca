#pragma once
// The fine-tuning loop: seeded, resumable, logged.
#include <functional>
#include <string>
#include <vector>

#include "lookalike/data/dataset.h"
#include "lookalike/metric/options.h"
#include "lookalike/models/net.h"
#include "lookalike/noisy/filter.h"
#include "lookalike/train/tag_heads.h"
#include "lookalike/util/json.h"

#include "lookalike/util/options.h"

namespace lookalike::train {

struct TrainOptions {
  int epochs = 5;
  int64_t batch_size = 128;
  std::string optimizer = "adam";  // "adam" | "sgd" (momentum)
  double lr = 1e-3;
  double momentum = 0.9;            // sgd
  bool nesterov = true;             // sgd
  double weight_decay = 0.0;        // L2 (sgd, adam)
  std::string schedule = "cosine";  // "cosine" | "step" | "constant"; stepped per batch (cosine)
  int step_size = 10;               // step: epochs between decays
  double gamma = 0.1;               // step: decay factor
  int warmup_epochs = 0;            // linear warm-up from lr/10, any schedule
  uint64_t seed = 0;
  int threads = 0;               // <= 0: the machine's cores (torch, OpenMP, OpenBLAS)
  std::string device = "cpu";    // "cpu" | "cuda" | "cuda:N"
  bool mixed_precision = true;   // CUDA only: bf16 autocast
  std::string augment = "none";  // "none" | "flip" | "flip_crop"
  std::string checkpoint_dir;    // empty: no checkpoints
  bool resume = false;           // continue from checkpoint_dir/checkpoint.pt when present
  std::string log_path;          // JSON Lines, one record per epoch; empty: none
  // "auto": a bar with ETA when stderr is a terminal, else a line per epoch | "on" (bar) |
  // "lines" | "off"
  std::string progress = "auto";
  int64_t eval_batch_size = 1024;
  // Data-parallel training over processes (train/data_parallel.h): "auto" joins the ranks the
  // environment names (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; `lookalike run
  // --nproc N`), "off" trains in this process alone. Each rank takes its share of every global
  // batch of batch_size, the gradients are summed over ranks in buckets of bucket_mb MB, rank 0
  // writes checkpoint and log.
  std::string distributed = "auto";
  double bucket_mb = 25;
  // Fine-tuning: backbone stages [0, freeze_stages) never train (-1: the whole backbone), with
  // their batch norms in eval mode; the backbone learns at lr * backbone_lr_factor; during the
  // first head_warmup_epochs only the head trains.
  int freeze_stages = 0;
  double backbone_lr_factor = 1.0;
  int head_warmup_epochs = 0;
  // The backbone's batch norm while training: "train" (batch statistics), "frozen" (eval mode:
  // running statistics kept, scale and shift learnt), "auto" (frozen for weights whose batch
  // norm is folded into the convolutions, i.e. TFLite; else train).
  std::string batch_norm = "auto";
  // Batches: "random" or "class_balanced" (batch_size / samples_per_class classes, each with
  // samples_per_class images: what pair and triplet losses need).
  std::string sampler = "random";
  int64_t samples_per_class = 4;
  models::NetOptions model;
  noisy::FilterOptions filter;  // noisy-label strategy; "none": plain cross-entropy
  // The objective: "cross_entropy" (the classifier, with the filter) or a metric-learning loss
  // on the embedding (metric/loss.h) with its miner; the network then has no classifier.
  metric::MetricOptions metric;
  // A tag set (Dataset::targets): the classifier has one output per tag, grouped in families by
  // the tags' names; the loss by name, positive weights and exclusive (softmax) families.
  TagHeadOptions tags;
};
LOOKALIKE_OPTIONS(TrainOptions, epochs, batch_size, optimizer, lr, momentum, nesterov, weight_decay,
                  schedule, step_size, gamma, warmup_epochs, seed, threads, device, mixed_precision,
                  augment, checkpoint_dir, resume, log_path, progress, eval_batch_size,
                  distributed, bucket_mb, freeze_stages, backbone_lr_factor, head_warmup_epochs, batch_norm, sampler,
                  samples_per_class, model, filter, metric, tags)

/// Checks every option; throws InvalidArgument naming the first bad one.
void validate(const TrainOptions& options);

/// Options as JSON text (what checkpoints and result files record) and back.
std::string to_json(const TrainOptions& options);
std::string to_json(const models::NetOptions& options);
models::NetOptions model_options_from_json(const std::string& json);

struct TrainResult {
  models::Net model{nullptr};
  /// One record per epoch: epoch, lr, train_loss, train_accuracy (classification), [val_loss,
  /// val_accuracy; or with a metric loss val_precision_at_1, val_r_precision, val_map_at_r],
  /// seconds, items_per_second, kept_fraction (share of samples the loss used), and when the
  /// training set carries clean_labels: label_precision (share of kept samples whose label is
  /// right) and clean_recall (share of right-labelled samples kept). A data-parallel run adds
  /// ranks and allreduce_seconds (this rank's time in the gradients' all-reduce); its counts,
  /// loss and items_per_second cover every rank's rows.
  std::vector<util::Record> history;
};

/// Called after each epoch with its record; returning false stops training early.
using EpochCallback = std::function<bool(const util::Record&)>;

class Trainer {
 public:
  explicit Trainer(TrainOptions options);

  /// Trains a new network (options.model) on `train` (images uint8/float [N, C, H, W], labels int64
  /// [N]) and validates on `val` after each epoch when it is non-empty. The input channels and
  /// (when model.num_classes <= 0) the classes come from the data. A tag set (train.targets
  /// float [N, T] with train.tags [T]) trains one output per tag with the tag heads' loss
  /// (options.tags); its records have val_loss, val_map_macro, val_map_micro, and the first one
  /// counts the tags without a positive training photo (tags_without_positives).
  TrainResult fit(const data::Dataset& train, const data::Dataset& val = {},
                  const EpochCallback& on_epoch = nullptr);

  const TrainOptions& options() const { return options_; }

 private:
  TrainOptions options_;
};

/// Classification loss and accuracy of `model` on `set`: {"loss", "accuracy"}; for a network
/// without a classifier (metric learning), retrieval of the set among itself instead:
/// {"precision_at_1", "r_precision", "map_at_r"} (eval/retrieval.h); for a tag set (targets),
/// {"loss" (the tag heads' `tags` loss), "map_macro", "map_micro"} (eval/average_precision.h).
util::Record evaluate(models::Net& model, const data::Dataset& set, int64_t batch_size = 1024,
                      const std::string& device = "cpu", const TagHeadOptions& tags = {});

/// A tag set's loss under `heads` and its mean average precision (macro, micro) of the heads'
/// probabilities over the known targets (TagHeads::known): {"loss", "map_macro", "map_micro"}.
util::Record evaluate_tags(models::Net& model, const data::Dataset& set, const TagHeads& heads,
                           int64_t batch_size = 1024, const std::string& device = "cpu");

/// Writes the model (its options and weights) to `path` atomically.
void save_model(models::Net& model, const std::string& path);
/// Reads a model written by save_model; throws FileError naming the file when it is not one.
models::Net load_model(const std::string& path);

}  // namespace lookalike::train
