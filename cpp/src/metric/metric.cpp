#include <torch/torch.h>

#include <set>

#include "lookalike/error.h"
#include "lookalike/metric/loss.h"
#include "lookalike/metric/miner.h"

namespace lookalike::metric {

util::Registry<LossSpec>& loss_registry() {
  static util::Registry<LossSpec> table("metric loss");
  return table;
}
util::Registry<MinerSpec>& miner_registry() {
  static util::Registry<MinerSpec> table("miner");
  return table;
}
std::vector<std::string> metric_losses() { return loss_registry().names(); }
std::vector<std::string> miners() { return miner_registry().names(); }

void validate(const MetricOptions& o) {
  const bool classification = o.loss == "cross_entropy";
  if (!classification) loss_registry().get(o.loss);  // InvalidArgument naming the known ones
  if (o.miner != "none") miner_registry().get(o.miner);
  std::set<std::string> read = {"loss", "miner"};
  if (!classification) {
    const LossSpec& spec = loss_registry().get(o.loss);
    read.insert(spec.options.begin(), spec.options.end());
    LOOKALIKE_CHECK_ARG(spec.mined || o.miner == "none", "the ", o.loss,
                        " loss takes no miner (it is not a pair or triplet loss); got miner '",
                        o.miner, "'");
  } else {
    LOOKALIKE_CHECK_ARG(o.miner == "none", "a miner needs a metric loss; loss is cross_entropy");
  }
  if (o.miner != "none") {
    const auto& m = miner_registry().get(o.miner).options;
    read.insert(m.begin(), m.end());
  }
  // An option that neither the loss nor the miner reads must stay at its default.
  const auto now = util::options_json(o), defaults = util::options_json(MetricOptions{});
  for (auto it = now.begin(); it != now.end(); ++it)
    LOOKALIKE_CHECK_ARG(read.count(it.key()) || it.value() == defaults[it.key()], "option '",
                        it.key(), "' does not apply to loss '", o.loss, "' with miner '", o.miner,
                        "'");
  for (double v : {o.triplet_margin, o.pos_margin, o.neg_margin, o.ms_alpha, o.ms_beta, o.ms_base,
                   o.temperature, o.proxy_margin, o.proxy_alpha, o.arc_margin, o.arc_scale,
                   o.miner_margin, o.miner_epsilon})
    LOOKALIKE_CHECK_ARG(std::isfinite(v), "metric options must be finite numbers");
  LOOKALIKE_CHECK_ARG(o.ms_alpha > 0 && o.ms_beta > 0, "ms_alpha and ms_beta must be positive");
  LOOKALIKE_CHECK_ARG(o.temperature > 0, "temperature must be positive, got ", o.temperature);
  LOOKALIKE_CHECK_ARG(o.proxy_alpha > 0 && o.arc_scale > 0,
                      "proxy_alpha and arc_scale must be positive");
  LOOKALIKE_CHECK_ARG(o.arc_margin >= 0 && o.arc_margin < 90, "arc_margin is in degrees, [0, 90)");
  LOOKALIKE_CHECK_ARG(o.miner_margin > 0, "miner_margin must be positive, got ", o.miner_margin);
}

std::shared_ptr<MetricLoss> make_loss(const MetricOptions& o, int64_t dim, int64_t classes) {
  validate(o);
  LOOKALIKE_CHECK_ARG(o.loss != "cross_entropy", "make_loss: cross_entropy is the classifier's");
  LOOKALIKE_CHECK_ARG(dim > 0 && classes > 0, "make_loss: dim and classes must be positive");
  return loss_registry().get(o.loss).make(o, dim, classes);
}

std::unique_ptr<Miner> make_miner(const MetricOptions& o) {
  validate(o);
  if (o.miner == "none") return nullptr;
  return miner_registry().get(o.miner).make(o);
}

std::pair<torch::Tensor, torch::Tensor> all_pairs(const torch::Tensor& labels) {
  LOOKALIKE_CHECK_ARG(labels.dim() == 1 && labels.scalar_type() == torch::kLong,
                      "labels must be int64 [B], got ", labels.sizes(), " ", labels.scalar_type());
  auto same = labels.unsqueeze(1).eq(labels.unsqueeze(0));
  auto eye = torch::eye(labels.size(0), torch::dtype(torch::kBool).device(labels.device()));
  return {same.logical_and(eye.logical_not()), same.logical_not()};
}

std::pair<torch::Tensor, torch::Tensor> pair_masks(const Tuples& t, const torch::Tensor& labels) {
  if (t.pos_pairs.defined()) return {t.pos_pairs, t.neg_pairs};
  if (!t.anchor.defined()) return all_pairs(labels);
  const int64_t b = labels.size(0);
  auto opts = torch::dtype(torch::kBool).device(labels.device());
  auto pos = torch::zeros({b, b}, opts), neg = torch::zeros({b, b}, opts);
  pos.index_put_({t.anchor, t.positive}, true);
  neg.index_put_({t.anchor, t.negative}, true);
  return {pos, neg};
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> triplets(const Tuples& t,
                                                                 const torch::Tensor& labels) {
  if (t.anchor.defined()) return {t.anchor, t.positive, t.negative};
  auto [pos, neg] = pair_masks(t, labels);
  // (a, p, n) with pos[a, p] and neg[a, n]: [B, B, B] mask, fine for training batch sizes.
  auto idx = pos.unsqueeze(2).logical_and(neg.unsqueeze(1)).nonzero();
  return {idx.select(1, 0), idx.select(1, 1), idx.select(1, 2)};
}

}  // namespace lookalike::metric
