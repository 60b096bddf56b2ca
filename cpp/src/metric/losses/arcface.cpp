// "arcface": additive angular margin (Deng et al. 2019; pytorch-metric-learning's ArcFaceLoss:
// W [D, C] initialised normal, margin in degrees): cross-entropy of scale cos(theta_y + m) for
// the labelled class and scale cos(theta_c) for the others, theta the angle between the
// embedding and the class's weight vector.
#include <torch/torch.h>

#include <cmath>

#include "../distances.h"
#include "lookalike/metric/loss.h"

namespace lookalike::metric {
namespace {

class ArcFace final : public MetricLoss {
 public:
  ArcFace(const MetricOptions& o, int64_t dim, int64_t classes)
      : margin_(o.arc_margin * M_PI / 180.0), scale_(o.arc_scale), classes_(classes) {
    w_ = register_parameter("W", torch::randn({dim, classes}));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels,
                        const Tuples&) override {
    auto cos = detail::cosine(x, w_.t());  // [B, C]
    auto target = torch::one_hot(labels, classes_).to(torch::kBool);
    auto angles = torch::acos(cos.clamp(-1 + 1e-7, 1 - 1e-7));
    auto logits = torch::where(target, torch::cos(angles + margin_), cos) * scale_;
    return torch::nn::functional::cross_entropy(logits, labels);
  }

 private:
  double margin_, scale_;
  int64_t classes_;
  torch::Tensor w_;
};

}  // namespace

LOOKALIKE_REGISTER(loss_registry(), "arcface",
                   (LossSpec{[](const MetricOptions& o, int64_t dim,
                                int64_t classes) -> std::shared_ptr<MetricLoss> {
                               return std::make_shared<ArcFace>(o, dim, classes);
                             },
                             {"arc_margin", "arc_scale"},
                             false}))

}  // namespace lookalike::metric
