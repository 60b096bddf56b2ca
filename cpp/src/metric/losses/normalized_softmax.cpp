// "normalized_softmax": cross-entropy of the cosine similarities to one weight vector per class
// over a temperature (Zhai & Wu 2019; pytorch-metric-learning's NormalizedSoftmaxLoss: W
// [D, C] initialised normal).
#include <torch/torch.h>

#include "../distances.h"
#include "lookalike/metric/loss.h"

namespace lookalike::metric {
namespace {

class NormalizedSoftmax final : public MetricLoss {
 public:
  NormalizedSoftmax(const MetricOptions& o, int64_t dim, int64_t classes)
      : temperature_(o.temperature) {
    w_ = register_parameter("W", torch::randn({dim, classes}));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels,
                        const Tuples&) override {
    auto logits = detail::cosine(x, w_.t()) / temperature_;
    return torch::nn::functional::cross_entropy(logits, labels);
  }

 private:
  double temperature_;
  torch::Tensor w_;
};

}  // namespace

LOOKALIKE_REGISTER(loss_registry(), "normalized_softmax",
                   (LossSpec{[](const MetricOptions& o, int64_t dim,
                                int64_t classes) -> std::shared_ptr<MetricLoss> {
                               return std::make_shared<NormalizedSoftmax>(o, dim, classes);
                             },
                             {"temperature"},
                             false}))

}  // namespace lookalike::metric
