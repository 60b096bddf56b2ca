// Noise injection exactness and the filter building blocks, from C++ (the statistical and
// end-to-end checks are in tests/python/test_noisy.py).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/noisy/confident.h"
#include "lookalike/noisy/filter.h"
#include "lookalike/noisy/noise.h"

using namespace lookalike;

TEST(Noise, ClassConditionalIsExactOverSixtyThousandLabels) {
  auto y = torch::arange(60000, torch::kLong).remainder(10);
  for (const std::string kind : {"symmetric", "pairflip"}) {
    noisy::NoiseOptions o;
    o.kind = kind;
    o.rate = 0.45;
    o.seed = 11;
    auto r = noisy::inject_noise(y, o);
    EXPECT_NEAR(r.realised_rate, 0.45, 1e-9) << kind;  // 6000 per class: 2700 moved each
    auto t = noisy::realised_transition(y, r.noisy_labels, 10);
    EXPECT_TRUE(torch::allclose(t, r.transition, 0, 1.0 / 6000 + 1e-12)) << kind;
    EXPECT_TRUE(torch::equal(r.corrupted, r.noisy_labels.ne(y)));
  }
  noisy::NoiseOptions bad;
  bad.rate = -0.1;
  EXPECT_THROW(noisy::inject_noise(y, bad), InvalidArgument);
  bad.rate = 0.2;
  bad.num_classes = 5;  // labels reach 9
  EXPECT_THROW(noisy::inject_noise(y, bad), InvalidArgument);
}

TEST(Filters, KeepScheduleAndSmallLossSelection) {
  noisy::FilterOptions o;
  o.forget_rate = 0.4;
  o.num_gradual = 4;
  EXPECT_DOUBLE_EQ(noisy::keep_fraction(o, 0), 1.0);
  EXPECT_DOUBLE_EQ(noisy::keep_fraction(o, 2), 0.8);
  EXPECT_DOUBLE_EQ(noisy::keep_fraction(o, 9), 0.6);
  // Losses 0.5, 2, 0.1, 3, 1: keeping 60 % (3 of 5) keeps the three smallest.
  auto kept = noisy::detail::smallest(torch::tensor({0.5f, 2.f, 0.1f, 3.f, 1.f}), 0.6);
  EXPECT_TRUE(torch::equal(kept, torch::tensor({true, false, true, false, true})));
  // Co-teaching: network 1 learns from what network 2 finds small, and the other way round.
  o.filter = "coteaching";
  o.num_gradual = 0;  // full forget rate from the start
  o.forget_rate = 0.5;
  auto f = noisy::make_filter(o, 4, 1, 1e-3);
  ASSERT_EQ(f->networks(), 2);
  auto y = torch::tensor({0, 0, 1, 1}, torch::kLong);
  // Network 1 is right on samples 0, 2; network 2 on samples 1, 3.
  auto l1 = torch::tensor({{5.f, 0.f}, {0.f, 5.f}, {0.f, 5.f}, {5.f, 0.f}});
  auto l2 = torch::tensor({{0.f, 5.f}, {5.f, 0.f}, {5.f, 0.f}, {0.f, 5.f}});
  torch::Tensor k;
  f->batch_loss({l1, l2}, y, torch::arange(4, torch::kLong), 0, k);
  EXPECT_TRUE(torch::equal(k, torch::tensor({false, true, false, true})));  // network 2's picks
  o.filter = "nonsense";
  EXPECT_THROW(noisy::make_filter(o, 4, 1, 1e-3), InvalidArgument);
}

TEST(ConfidentLearning, RejectsBadProbabilities) {
  auto y = torch::tensor({0, 1, 1}, torch::kLong);
  EXPECT_THROW(noisy::find_label_issues(y, torch::full({3, 2}, 0.3)), InvalidArgument);
  EXPECT_THROW(noisy::find_label_issues(y, torch::full({2, 2}, 0.5)), InvalidArgument);
  auto p = torch::tensor({{0.9f, 0.1f}, {0.2f, 0.8f}, {0.9f, 0.1f}});
  auto issues = noisy::find_label_issues(y, p, "confident_learning");
  EXPECT_TRUE(torch::equal(issues, torch::tensor({false, false, true})));
}
