// "focal": Lin et al. 2017 on sigmoid outputs: BCE x (1 - p_t)^gamma (p_t the probability of
// the true value), times alpha on positives and 1 - alpha on negatives when alpha >= 0
// (torchvision's sigmoid_focal_loss, mean reduction); the positive weight scales positives' BCE.
#include <torch/torch.h>

#include "lookalike/train/multilabel_loss.h"

namespace lookalike::train {
namespace {

class Focal final : public MultiLabelLoss {
 public:
  explicit Focal(const MultiLabelLossOptions& o) : gamma_(o.gamma), alpha_(o.alpha) {}
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& pos_weight) const override {
    auto ce = torch::binary_cross_entropy_with_logits(logits, targets, {}, pos_weight,
                                                      at::Reduction::None);
    auto p = torch::sigmoid(logits);
    auto p_t = p * targets + (1 - p) * (1 - targets);
    auto loss = ce * torch::pow(1 - p_t, gamma_);
    if (alpha_ >= 0) loss = loss * (alpha_ * targets + (1 - alpha_) * (1 - targets));
    return loss.mean();
  }

 private:
  double gamma_, alpha_;
};

}  // namespace

LOOKALIKE_REGISTER(multilabel_loss_registry(), "focal",
                   [](const MultiLabelLossOptions& o) -> std::shared_ptr<MultiLabelLoss> {
                     return std::make_shared<Focal>(o);
                   })

}  // namespace lookalike::train
