#include "networks.h"

#include "lookalike/models/pretrained.h"
#include "lookalike/util/rng.h"

namespace lookalike::train::detail {

Networks::Networks(const data::Dataset& train) {
  auto sample = train.images.slice(0, 0, std::min<int64_t>(train.size(), 10000)).to(torch::kFloat);
  if (train.images.scalar_type() == torch::kUInt8) sample.div_(255.0f);
  mean_ = sample.mean({0, 2, 3});
  std_ = sample.std(/*dim=*/{0, 2, 3}, /*unbiased=*/false).clamp_min(1e-3);
  classes_ = train.labels.max().item<int64_t>() + 1;
}

void Networks::init(const TrainOptions& o, int count, uint64_t round, const torch::Device& device) {
  nets.clear();
  bn_frozen_ = o.batch_norm == "frozen" || (o.batch_norm == "auto" && !o.model.weights.empty() &&
                                            o.model.backbone != "torchscript" &&
                                            models::weights_format(o.model.weights) == "tflite");
  std::vector<torch::Tensor> backbone, head;
  for (int i = 0; i < count; ++i) {
    torch::manual_seed(i == 0 && round == 0 ? o.seed
                                            : util::mix_seed(o.seed, 7777 + 31 * round + i));
    models::Net net = models::make_net(o.model);
    if (models::uses_data_normalization(o.model)) net->set_normalization(mean_, std_);
    net->to(device);
    for (auto& p : net->backbone_parameters()) backbone.push_back(p);
    for (auto& p : net->head_parameters()) head.push_back(p);
    nets.push_back(net);
  }
  loss.reset(), miner.reset();
  if (o.metric.loss != "cross_entropy") {
    loss = metric::make_loss(o.metric, nets[0]->embedding_dim(), classes_);
    loss->to(device);
    miner = metric::make_miner(o.metric);
    for (auto& p : loss->parameters()) head.push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(backbone);
  lr_factors_ = {o.backbone_lr_factor};
  if (!head.empty()) groups.emplace_back(head), lr_factors_.push_back(1.0);
  if (o.optimizer == "adam") {
    optimizer = std::make_unique<torch::optim::Adam>(
        groups, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  } else {
    optimizer = std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(o.lr)
                                                                .momentum(o.momentum)
                                                                .nesterov(o.nesterov)
                                                                .weight_decay(o.weight_decay));
  }
}

torch::Tensor Networks::metric_loss(const torch::Tensor& embeddings, const torch::Tensor& labels) {
  const auto mined = miner ? miner->mine(embeddings, labels) : metric::Tuples{};
  return loss->forward(embeddings, labels, mined);
}

void Networks::set_lr(double lr) {
  auto& groups = optimizer->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lr * lr_factors_[g]);
}

void Networks::begin_epoch(const TrainOptions& o, int epoch) {
  for (auto& net : nets) {
    net->freeze_stages(epoch < o.head_warmup_epochs ? -1 : o.freeze_stages);
    net->freeze_batch_norm(bn_frozen_);
    net->train();
  }
  if (loss) loss->train();
}

}  // namespace lookalike::train::detail
