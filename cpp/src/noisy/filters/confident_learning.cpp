// "confident_learning": clean, then retrain. The Trainer runs K-fold cross-training first
// (noisy::cross_val_pred_probs), flags label issues (noisy::find_label_issues), and this filter
// then trains on the samples that were not flagged.
#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/noisy/filter.h"

namespace lookalike::noisy {
namespace {
// "confident_learning": trains on the samples that confident learning did not flag.
class ExcludingFilter final : public SampleFilter {
 public:
  explicit ExcludingFilter(torch::Tensor excluded) : excluded_(excluded.to(torch::kBool).cpu()) {}
  torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                           const torch::Tensor& indices, int, torch::Tensor& kept) override {
    kept = excluded_.index_select(0, indices.cpu()).logical_not().to(labels.device());
    return detail::masked_mean(detail::per_sample_ce(logits[0], labels), kept);
  }
  std::map<std::string, torch::Tensor> state() const override { return {{"excluded", excluded_}}; }
  void load_state(const std::map<std::string, torch::Tensor>& s) override {
    excluded_ = s.at("excluded");
  }

 private:
  torch::Tensor excluded_;
};
}  // namespace

LOOKALIKE_REGISTER(filter_registry(), "confident_learning",
                   [](const FilterArgs& a) -> std::unique_ptr<SampleFilter> {
                     LOOKALIKE_CHECK_ARG(a.excluded.defined() && a.excluded.numel() == a.n,
                                         "confident_learning needs the detected issues (bool [",
                                         a.n, "])");
                     return std::make_unique<ExcludingFilter>(a.excluded);
                   })
}  // namespace lookalike::noisy
