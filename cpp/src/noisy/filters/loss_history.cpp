// "loss_history" (O2U-Net, Huang et al., ICCV 2019): a detection phase trains with a cyclic
// learning rate (each cycle falls linearly from lr to lr x min_ratio), recording every
// sample's loss each epoch; the tau share with the highest mean loss is then dropped and the
// networks start afresh on the rest for the remaining epochs (cosine from lr).
#include <torch/torch.h>

#include <cmath>

#include "lookalike/noisy/filter.h"

namespace lookalike::noisy {
namespace {
class LossHistoryFilter final : public SampleFilter {
 public:
  LossHistoryFilter(FilterOptions o, int64_t n, int epochs, double base_lr)
      : o_(std::move(o)), epochs_(epochs), base_lr_(base_lr) {
    detect_ = o_.history_epochs > 0 ? o_.history_epochs : std::max(1, epochs / 2);
    sum_ = torch::zeros({n}, torch::kDouble);
    seen_ = torch::zeros({n}, torch::kLong);
    dropped_ = torch::zeros({n}, torch::kBool);
  }

  torch::Tensor batch_loss(const std::vector<torch::Tensor>& logits, const torch::Tensor& labels,
                           const torch::Tensor& indices, int epoch, torch::Tensor& kept) override {
    auto loss = detail::per_sample_ce(logits[0], labels);
    auto idx = indices.cpu();
    if (epoch < detect_) {
      sum_.index_add_(0, idx, loss.detach().to(torch::kDouble).cpu());
      seen_.index_add_(0, idx, torch::ones_like(idx));
      kept = torch::ones({labels.size(0)}, labels.options().dtype(torch::kBool));
      return loss.mean();
    }
    kept = dropped_.index_select(0, idx).logical_not().to(labels.device());
    return detail::masked_mean(loss, kept);
  }

  double lr(int epoch, double t, double) const override {
    if (epoch < detect_) {  // cyclic: linear fall within each cycle
      const double s = std::fmod(t, double(o_.history_cycle)) / o_.history_cycle;
      return base_lr_ * (1.0 - s * (1.0 - o_.history_min_lr_ratio));
    }
    const double span = std::max(1, epochs_ - detect_);  // cosine over the retraining phase
    return 0.5 * base_lr_ * (1.0 + std::cos(M_PI * std::min((t - detect_) / span, 1.0)));
  }

  bool end_epoch(int epoch) override {
    if (epoch != detect_ - 1) return false;
    auto mean = sum_ / seen_.clamp_min(1).to(torch::kDouble);
    const int64_t n = mean.numel();
    const int64_t drop = static_cast<int64_t>(std::llround(o_.forget_rate * double(n)));
    auto order = std::get<1>(mean.sort(/*stable=*/true, 0, /*descending=*/true));
    dropped_.zero_();
    dropped_.index_fill_(0, order.slice(0, 0, drop), true);
    return detect_ < epochs_;  // retrain from scratch on the kept samples
  }

  std::map<std::string, torch::Tensor> state() const override {
    return {{"loss_sum", sum_}, {"loss_seen", seen_}, {"dropped", dropped_}};
  }
  std::vector<std::string> summed_state() const override { return {"loss_sum", "loss_seen"}; }
  void load_state(const std::map<std::string, torch::Tensor>& s) override {
    sum_ = s.at("loss_sum");
    seen_ = s.at("loss_seen");
    dropped_ = s.at("dropped");
  }

 private:
  FilterOptions o_;
  int epochs_, detect_;
  double base_lr_;
  torch::Tensor sum_, seen_, dropped_;
};

}  // namespace

LOOKALIKE_REGISTER(filter_registry(), "loss_history",
                   [](const FilterArgs& a) -> std::unique_ptr<SampleFilter> {
                     return std::make_unique<LossHistoryFilter>(a.options, a.n, a.epochs,
                                                                a.base_lr);
                   })

}  // namespace lookalike::noisy
