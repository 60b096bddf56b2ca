// "asl": asymmetric loss (Ridnik et al., ICCV 2021; the authors' AsymmetricLoss): positives
// -(1 - p)^gamma_pos log p (times the tag's positive weight), negatives -p_m^gamma_neg
// log(1 - p_m) with p_m = max(p - clip, 0); logs clamped at 1e-8; the mean over the B x K terms
// (the authors sum: a constant factor).
#include <torch/torch.h>

#include "lookalike/train/multilabel_loss.h"

namespace lookalike::train {
namespace {

class Asl final : public MultiLabelLoss {
 public:
  explicit Asl(const MultiLabelLossOptions& o)
      : gamma_pos_(o.gamma_pos), gamma_neg_(o.gamma_neg), clip_(o.clip) {}
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& pos_weight) const override {
    constexpr double eps = 1e-8;
    auto p = torch::sigmoid(logits);
    auto p_m = clip_ > 0 ? (p - clip_).clamp_min(0) : p;
    auto pos = targets * torch::log(p.clamp_min(eps)) * torch::pow(1 - p, gamma_pos_);
    if (pos_weight.defined()) pos = pos * pos_weight;
    auto neg = (1 - targets) * torch::log((1 - p_m).clamp_min(eps)) * torch::pow(p_m, gamma_neg_);
    return -(pos + neg).mean();
  }

 private:
  double gamma_pos_, gamma_neg_, clip_;
};

}  // namespace

LOOKALIKE_REGISTER(multilabel_loss_registry(), "asl",
                   [](const MultiLabelLossOptions& o) -> std::shared_ptr<MultiLabelLoss> {
                     return std::make_shared<Asl>(o);
                   })

}  // namespace lookalike::train
