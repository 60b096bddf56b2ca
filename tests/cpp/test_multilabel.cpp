// Multi-label losses against hand-computed values and their reductions to BCE (focal with
// gamma 0 and no alpha; ASL with no focusing and no clip), and the probe trained with each.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "lookalike/error.h"
#include "lookalike/train/linear_probe.h"
#include "lookalike/train/multilabel_loss.h"

using namespace lookalike;

namespace {

double loss_of(const train::MultiLabelLossOptions& o, const torch::Tensor& logits,
               const torch::Tensor& targets, const torch::Tensor& pos_weight = {}) {
  return train::make_multilabel_loss(o)->forward(logits, targets, pos_weight).item<double>();
}

train::MultiLabelLossOptions named(const std::string& name) {
  train::MultiLabelLossOptions o;
  o.name = name;
  return o;
}

}  // namespace

TEST(MultiLabelLoss, HandComputedValues) {
  // one positive and one negative tag at logit 0 (p = 0.5) and logit 2 (p = sigmoid(2))
  auto logits = torch::tensor({{0.0f, 2.0f}});
  auto targets = torch::tensor({{1.0f, 0.0f}});
  const double p2 = 1.0 / (1.0 + std::exp(-2.0));
  const double bce = (std::log(2.0) - std::log(1.0 - p2)) / 2.0;
  EXPECT_NEAR(loss_of(named("bce"), logits, targets), bce, 1e-6);
  // focal, gamma 2: each term times (1 - p_t)^2: 0.5^2 for the positive, p2^2 for the negative
  EXPECT_NEAR(loss_of(named("focal"), logits, targets),
              (std::log(2.0) * 0.25 - std::log(1.0 - p2) * p2 * p2) / 2.0, 1e-6);
  auto alpha = named("focal");
  alpha.alpha = 0.25;
  EXPECT_NEAR(loss_of(alpha, logits, targets),
              (0.25 * std::log(2.0) * 0.25 - 0.75 * std::log(1.0 - p2) * p2 * p2) / 2.0, 1e-6);
  // asl (gamma_pos 0, gamma_neg 4, clip 0.05): the negative at p_m = p2 - 0.05
  const double pm = p2 - 0.05;
  EXPECT_NEAR(loss_of(named("asl"), logits, targets),
              (std::log(2.0) - std::log(1.0 - pm) * std::pow(pm, 4)) / 2.0, 1e-6);
  // a negative below the clip costs nothing
  EXPECT_NEAR(loss_of(named("asl"), torch::tensor({{-4.0f}}), torch::tensor({{0.0f}})), 0.0, 1e-9);
  // the positive weight scales positives only
  auto w = torch::tensor({3.0f, 3.0f});
  EXPECT_NEAR(loss_of(named("bce"), logits, targets, w),
              (3 * std::log(2.0) - std::log(1.0 - p2)) / 2.0, 1e-6);
  EXPECT_NEAR(loss_of(named("asl"), logits, targets, w),
              (3 * std::log(2.0) - std::log(1.0 - pm) * std::pow(pm, 4)) / 2.0, 1e-6);
}

TEST(MultiLabelLoss, ReduceToBce) {
  torch::manual_seed(0);
  auto logits = torch::randn({16, 5}) * 3;
  auto targets = (torch::rand({16, 5}) < 0.3).to(torch::kFloat);
  const double bce = loss_of(named("bce"), logits, targets);
  auto focal = named("focal");
  focal.gamma = 0;
  EXPECT_NEAR(loss_of(focal, logits, targets), bce, 1e-5);
  auto asl = named("asl");
  asl.gamma_neg = 0;
  asl.clip = 0;
  EXPECT_NEAR(loss_of(asl, logits, targets), bce, 1e-5);
  // focusing only lowers the loss of each term
  EXPECT_LT(loss_of(named("focal"), logits, targets), bce);
  EXPECT_LT(loss_of(named("asl"), logits, targets), bce);
}

TEST(MultiLabelLoss, BadOptions) {
  EXPECT_THROW(train::make_multilabel_loss(named("hinge")), InvalidArgument);
  auto o = named("asl");
  o.clip = 1.0;
  EXPECT_THROW(train::make_multilabel_loss(o), InvalidArgument);
  o = named("focal");
  o.gamma = -1;
  EXPECT_THROW(train::make_multilabel_loss(o), InvalidArgument);
  train::ProbeOptions p;
  p.loss.name = "hinge";
  EXPECT_THROW(train::validate(p), InvalidArgument);
}
