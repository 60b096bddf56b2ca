#include "lookalike/train/multilabel_loss.h"

#include "lookalike/error.h"

namespace lookalike::train {

util::Registry<MultiLabelLossFactory>& multilabel_loss_registry() {
  static util::Registry<MultiLabelLossFactory> registry("multi-label loss");
  return registry;
}

std::vector<std::string> multilabel_losses() { return multilabel_loss_registry().names(); }

std::shared_ptr<MultiLabelLoss> make_multilabel_loss(const MultiLabelLossOptions& o) {
  const auto& factory = multilabel_loss_registry().get(o.name);
  LOOKALIKE_CHECK_ARG(o.gamma >= 0 && o.gamma_pos >= 0 && o.gamma_neg >= 0,
                      "MultiLabelLossOptions: gamma, gamma_pos and gamma_neg must be >= 0");
  LOOKALIKE_CHECK_ARG(o.alpha <= 1, "MultiLabelLossOptions.alpha must be <= 1 (< 0: none), got ",
                      o.alpha);
  LOOKALIKE_CHECK_ARG(o.clip >= 0 && o.clip < 1,
                      "MultiLabelLossOptions.clip must be in [0, 1), got ", o.clip);
  return factory(o);
}

}  // namespace lookalike::train
