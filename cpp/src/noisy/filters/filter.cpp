// The filter interface's shared pieces and the factory.
#include "lookalike/noisy/filter.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "lookalike/error.h"

namespace lookalike::noisy {

util::Registry<FilterFactory>& filter_registry() {
  static util::Registry<FilterFactory> table("filter");
  return table;
}

std::vector<std::string> filters() { return filter_registry().names(); }

void validate(const FilterOptions& o) {
  LOOKALIKE_CHECK_ARG(filter_registry().contains(o.filter), "filter must be one of ",
                      util::join_names(filters()), "; got '", o.filter, "'");
  LOOKALIKE_CHECK_ARG(o.forget_rate >= 0 && o.forget_rate < 1,
                      "forget_rate must be in [0, 1), got ", o.forget_rate);
  LOOKALIKE_CHECK_ARG(o.num_gradual >= 0, "num_gradual must be >= 0, got ", o.num_gradual);
  LOOKALIKE_CHECK_ARG(o.exponent > 0, "exponent must be > 0, got ", o.exponent);
  LOOKALIKE_CHECK_ARG(o.jocor_lambda >= 0 && o.jocor_lambda <= 1,
                      "jocor_lambda must be in [0, 1], got ", o.jocor_lambda);
  LOOKALIKE_CHECK_ARG(o.coteaching_plus_init_epoch >= 0, "coteaching_plus_init_epoch must be >= 0");
  LOOKALIKE_CHECK_ARG(o.history_epochs >= 0 && o.history_cycle >= 1,
                      "history_epochs must be >= 0 and history_cycle >= 1");
  LOOKALIKE_CHECK_ARG(o.history_min_lr_ratio > 0 && o.history_min_lr_ratio <= 1,
                      "history_min_lr_ratio must be in (0, 1]");
  LOOKALIKE_CHECK_ARG(o.cl_folds >= 2 && o.cl_epochs >= 0,
                      "cl_folds must be >= 2 and cl_epochs >= 0");
}

double keep_fraction(const FilterOptions& o, int epoch) {
  const double ramp =
      o.num_gradual == 0 ? 1.0 : std::min(std::pow(double(epoch) / o.num_gradual, o.exponent), 1.0);
  return 1.0 - o.forget_rate * ramp;
}

namespace detail {
torch::Tensor per_sample_ce(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
}

torch::Tensor smallest(const torch::Tensor& loss, double keep) {
  const int64_t b = loss.size(0);
  const int64_t n =
      std::min<int64_t>(b, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(keep * b))));
  auto order = std::get<1>(loss.detach().sort(/*stable=*/true, 0, false));
  auto kept = torch::zeros({b}, loss.options().dtype(torch::kBool));
  kept.index_fill_(0, order.slice(0, 0, n), true);
  return kept;
}

torch::Tensor masked_mean(const torch::Tensor& loss, const torch::Tensor& kept) {
  auto w = kept.to(loss.scalar_type());
  return (loss * w).sum() / w.sum().clamp_min(1.0);
}
}  // namespace detail

std::unique_ptr<SampleFilter> make_filter(const FilterOptions& o, int64_t n, int epochs,
                                          double base_lr, const torch::Tensor& excluded) {
  validate(o);
  return filter_registry().get(o.filter)({o, n, epochs, base_lr, excluded});
}

}  // namespace lookalike::noisy
