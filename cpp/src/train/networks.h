#pragma once
// Private to train/: the networks one fit trains (two for the co-teaching family), their
// optimizer with the backbone and head learning rates, and the fine-tuning schedule (frozen
// stages, head warm-up).
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "lookalike/data/dataset.h"
#include "lookalike/metric/loss.h"
#include "lookalike/models/net.h"
#include "lookalike/train/trainer.h"

namespace lookalike::train::detail {

class Networks {
 public:
  /// Input normalisation (used when the model's normalization is "data") from the training
  /// images: per-channel mean and std in [0, 1] of up to 10,000 of them; the classes (for a
  /// metric loss's proxies or class weights) from the labels.
  explicit Networks(const data::Dataset& train);

  /// Builds `count` networks (pretrained weights loaded when options.model.weights is set),
  /// each seeded (round > 0: a filter restarting on its clean set), the metric loss and miner
  /// when options.metric names one, and one optimizer over all of them: the backbones'
  /// parameters at lr * backbone_lr_factor, the rest (heads, classifiers, the loss's) at lr.
  void init(const TrainOptions& o, int count, uint64_t round, const torch::Device& device);

  /// The learning rate of every parameter group for base rate `lr`.
  void set_lr(double lr);
  /// Epoch `epoch`'s frozen stages: the whole backbone during the head warm-up, then the first
  /// freeze_stages; sets the networks to training mode (frozen batch norms stay in eval).
  void begin_epoch(const TrainOptions& o, int epoch);

  /// The metric loss of a batch's embeddings (float [B, D]) and labels (int64 [B]), mined.
  torch::Tensor metric_loss(const torch::Tensor& embeddings, const torch::Tensor& labels);

  std::vector<models::Net> nets;
  std::shared_ptr<metric::MetricLoss> loss;  // null: cross-entropy on the classifier
  std::unique_ptr<metric::Miner> miner;      // null: every pair / triplet
  std::unique_ptr<torch::optim::Optimizer> optimizer;

 private:
  torch::Tensor mean_, std_;
  int64_t classes_ = 0;
  std::vector<double> lr_factors_;  // per parameter group
  bool bn_frozen_ = false;  // the backbone's batch norm in eval mode (TrainOptions::batch_norm)
};

}  // namespace lookalike::train::detail
