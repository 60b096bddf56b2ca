// "proxy_anchor": Kim et al. 2020 with one proxy per class (pytorch-metric-learning's
// ProxyAnchorLoss: proxies [C, D] initialised Kaiming-normal, fan out). With s the cosine
// similarity of embedding x and proxy p, X_p+ / X_p- the batch's positives / negatives of p,
// P+ the proxies with a positive in the batch:
//   1/|P+| sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s - margin)))
//   + 1/C sum_p log(1 + sum_{x in X_p-} exp(alpha (s + margin)))
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/loss.h"

namespace lookalike::metric {
namespace {

class ProxyAnchor final : public MetricLoss {
 public:
  ProxyAnchor(const MetricOptions& o, int64_t dim, int64_t classes)
      : margin_(o.proxy_margin), alpha_(o.proxy_alpha), classes_(classes) {
    proxies_ = register_parameter("proxies", torch::empty({classes, dim}));
    torch::nn::init::kaiming_normal_(proxies_, 0.0, torch::kFanOut);
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels,
                        const Tuples&) override {
    auto s = detail::cosine(x, proxies_);  // [B, C]
    auto pos = torch::one_hot(labels, classes_).to(torch::kBool);
    auto pos_term = detail::logsumexp_add_one(-alpha_ * (s - margin_), pos, 0);  // [C]
    auto neg_term = detail::logsumexp_add_one(alpha_ * (s + margin_), pos.logical_not(), 0);
    auto with_pos = pos.any(0);
    return pos_term.masked_select(with_pos).sum() / with_pos.sum().clamp_min(1) +
           neg_term.sum() / classes_;
  }

 private:
  double margin_, alpha_;
  int64_t classes_;
  torch::Tensor proxies_;
};

}  // namespace

LOOKALIKE_REGISTER(loss_registry(), "proxy_anchor",
                   (LossSpec{[](const MetricOptions& o, int64_t dim,
                                int64_t classes) -> std::shared_ptr<MetricLoss> {
                               return std::make_shared<ProxyAnchor>(o, dim, classes);
                             },
                             {"proxy_margin", "proxy_alpha"},
                             false}))

}  // namespace lookalike::metric
