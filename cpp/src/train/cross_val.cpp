#include "lookalike/train/cross_val.h"

#include <torch/torch.h>

#include "lookalike/models/embed.h"
#include "lookalike/noisy/confident.h"

namespace lookalike::train {

torch::Tensor cross_val_pred_probs(const data::Dataset& set, int64_t folds,
                                   const TrainOptions& options, uint64_t seed) {
  TrainOptions o = options;
  o.checkpoint_dir.clear();
  o.resume = false;
  o.log_path.clear();
  auto fit = [&](const data::Dataset& part, const torch::Tensor& held_out, int64_t classes,
                 int64_t fold) {
    TrainOptions fo = o;
    fo.model.num_classes = static_cast<int>(classes);
    fo.seed = options.seed + 7919 * (fold + 1);
    auto model = Trainer(fo).fit(part).model;
    auto out = models::infer(model, held_out, fo.eval_batch_size, fo.device, true);
    return torch::softmax(out.logits.to(torch::kFloat), 1);
  };
  return noisy::cross_val_pred_probs(set, folds, options.model.num_classes, fit, seed);
}

}  // namespace lookalike::train
