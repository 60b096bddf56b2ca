// "bce": binary cross-entropy with logits, per-tag positive weight (torch's
// binary_cross_entropy_with_logits, mean over the B x K terms).
#include <torch/torch.h>

#include "lookalike/train/multilabel_loss.h"

namespace lookalike::train {
namespace {

class Bce final : public MultiLabelLoss {
 public:
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& pos_weight) const override {
    return torch::binary_cross_entropy_with_logits(logits, targets, {}, pos_weight);
  }
};

}  // namespace

LOOKALIKE_REGISTER(multilabel_loss_registry(), "bce",
                   [](const MultiLabelLossOptions&) -> std::shared_ptr<MultiLabelLoss> {
                     return std::make_shared<Bce>();
                   })

}  // namespace lookalike::train
