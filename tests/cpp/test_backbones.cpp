// Backbones by name: feature-map shapes, parameter counts against the published architectures
// (torchvision's models without their classifiers; the ResNet-8 HDF5 file), stages that
// partition the parameters, TF "same" padding, the pooled embedding head by hand, bad input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "../../cpp/src/models/backbones/layers.h"
#include "lookalike/error.h"
#include "lookalike/models/backbone.h"
#include "lookalike/models/embedding_head.h"

using namespace lookalike;

namespace {
int64_t parameter_count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
}  // namespace

TEST(Backbones, FeatureMapsHaveTheDeclaredChannelsAndStride) {
  const std::set<std::string> want = {"convnet",  "mobilenet_v2", "resnet18", "resnet20",
                                      "resnet34", "resnet50",     "resnet8",  "torchscript"};
  const auto names = models::backbones();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), want);
  torch::NoGradGuard no_grad;
  for (const auto& name : names) {
    if (name == "torchscript") continue;  // needs a module file: tests/python/test_pretrained.py
    auto b = models::make_backbone(name);
    b->eval();
    const auto& info = b->info();
    for (int64_t side : {info.min_input, info.min_input * 2 + 1}) {
      auto y = b->features(torch::rand({2, 3, side, side}));
      const int64_t cells =
          name == "convnet" ? side / info.stride : (side + info.stride - 1) / info.stride;
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, info.channels, cells, cells}))
          << name << " at " << side;
    }
    EXPECT_EQ(info.mean.size(), 3u) << name;
  }
}

TEST(Backbones, ParameterCountsEqualThePublishedArchitectures) {
  // torchvision 0.14 resnet18/34/50 and mobilenet_v2 less their fc / classifier layers.
  EXPECT_EQ(parameter_count(*models::make_backbone("resnet18")), 11689512 - 513000);
  EXPECT_EQ(parameter_count(*models::make_backbone("resnet34")), 21797672 - 513000);
  EXPECT_EQ(parameter_count(*models::make_backbone("resnet50")), 25557032 - 2049000);
  EXPECT_EQ(parameter_count(*models::make_backbone("mobilenet_v2")), 3504872 - 1281000);
  // ResNet-8: the kernels, biases, gammas and betas of ../shared/data/pretrained/
  // resnet8_cifar10.h5 less its dense layer (moving statistics are buffers here).
  EXPECT_EQ(parameter_count(*models::make_backbone("resnet8")), 77536);
  // mobilenet_v2 width 0.5: torchvision's make_divisible rounds 16 -> 8, 1280 stays.
  auto half = models::make_backbone("mobilenet_v2", {{"width_mult", 0.5}});
  EXPECT_EQ(half->info().channels, 1280);
}

TEST(Backbones, StagesPartitionTheParameters) {
  for (const auto& name : models::backbones()) {
    if (name == "torchscript") continue;  // one stage, the whole module (test_pretrained.py)
    auto b = models::make_backbone(name);
    std::set<const void*> seen;
    int64_t count = 0;
    for (int64_t i = 0; i < b->info().stages; ++i)
      for (const auto& m : b->stage(i))
        for (const auto& p : m->parameters()) {
          EXPECT_TRUE(seen.insert(p.data_ptr()).second) << name << " stage " << i;
          count += p.numel();
        }
    EXPECT_EQ(count, parameter_count(*b)) << name;
    EXPECT_THROW(b->stage(b->info().stages), InvalidArgument);
  }
}

TEST(Backbones, TfSamePaddingPadsTheExtraRowAtTheEnd) {
  models::detail::SameConv2d tf(models::detail::ConvSpec{1, 1, 3, 2, 1, false, "tf"});
  models::detail::SameConv2d pt(models::detail::ConvSpec{1, 1, 3, 2, 1, false, "torch"});
  torch::NoGradGuard no_grad;
  pt->weight.copy_(tf->weight);
  auto x = torch::rand({1, 1, 8, 8});
  // TF "same", stride 2, even side: 1 padding row/column in total, at the bottom/right.
  auto want = torch::conv2d(torch::constant_pad_nd(x, {0, 1, 0, 1}), tf->weight, {}, 2);
  EXPECT_TRUE(torch::allclose(tf(x), want));
  EXPECT_EQ(tf(x).sizes(), pt(x).sizes());
  EXPECT_FALSE(torch::allclose(tf(x), pt(x)));  // PyTorch pads one on every side
  auto odd = torch::rand({1, 1, 7, 7});         // odd side: one on each side, as PyTorch
  EXPECT_TRUE(torch::allclose(tf(odd), pt(odd)));
}

TEST(Backbones, TfSamePaddingDepthwiseEqualsThePaddedInputWithGradients) {
  // The depthwise stride-2 case embeds the kernel in a zero row/column instead of padding the
  // activations: value and gradients must equal the padded-input definition, in both layouts.
  const std::vector<int64_t> two{2, 2}, zero{0, 0}, one{1, 1};
  for (auto format : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
    for (auto hw : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {9, 9}, {8, 11}}) {
      models::detail::SameConv2d tf(models::detail::ConvSpec{6, 6, 3, 2, 6, false, "tf"});
      auto x = torch::rand({2, 6, hw.first, hw.second}).contiguous(format).requires_grad_();
      auto w = tf->weight.detach().clone().requires_grad_();
      const int64_t pad_h = hw.first % 2 == 0 ? 1 : 2, pad_w = hw.second % 2 == 0 ? 1 : 2;
      auto want = torch::conv2d(
          torch::constant_pad_nd(x, {pad_w / 2, pad_w - pad_w / 2, pad_h / 2, pad_h - pad_h / 2}),
          w, torch::Tensor(), torch::IntArrayRef(two), torch::IntArrayRef(zero),
          torch::IntArrayRef(one), 6);
      auto got = tf(x);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6));
      auto g = torch::rand_like(want);
      auto gx_want =
          torch::autograd::grad(std::vector<torch::Tensor>{want}, std::vector<torch::Tensor>{x, w},
                                std::vector<torch::Tensor>{g});
      auto gx_got = torch::autograd::grad(std::vector<torch::Tensor>{got},
                                          std::vector<torch::Tensor>{x, tf->weight},
                                          std::vector<torch::Tensor>{g});
      EXPECT_TRUE(torch::allclose(gx_got[0], gx_want[0], 1e-5, 1e-6));
      EXPECT_TRUE(torch::allclose(gx_got[1], gx_want[1], 1e-4, 1e-5));
    }
  }
}

TEST(EmbeddingHead, PoolingProjectionAndNormalisationByHand) {
  auto x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 1, 2, 2});
  models::EmbeddingHeadOptions o;
  o.normalize = false;
  EXPECT_NEAR(models::EmbeddingHead(1, o)(x).item<float>(), 2.5, 1e-6);  // average
  o.pooling = "gem";  // ((1 + 8 + 27 + 64) / 4)^(1/3)
  EXPECT_NEAR(models::EmbeddingHead(1, o)(x).item<float>(), std::cbrt(25.0), 1e-5);
  o.gem_p = 1.0;  // p = 1 is the average
  EXPECT_NEAR(models::EmbeddingHead(1, o)(x).item<float>(), 2.5, 1e-6);
  models::EmbeddingHeadOptions proj;
  proj.dim = 16;
  models::EmbeddingHead head(8, proj);
  auto z = head(torch::rand({3, 8, 4, 4}));
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_TRUE(torch::allclose(z.norm(2, 1), torch::ones({3}), 1e-5));
  EXPECT_EQ(parameter_count(*head), 8 * 16 + 16);
  proj.pooling = "max";
  EXPECT_THROW(models::EmbeddingHead(8, proj), InvalidArgument);
}

TEST(Backbones, BadInputIsAnErrorNamingIt) {
  auto expect_error = [](auto f, const std::string& text) {
    try {
      f();
      FAIL() << "expected an error about " << text;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_error([] { models::make_backbone("vgg16"); }, "unknown backbone 'vgg16'");
  expect_error([] { models::make_backbone("resnet18", {{"width_mult", 2}}); }, "width_mult");
  auto mnv2 = models::make_backbone("mobilenet_v2");
  expect_error(
      [&] {
        mnv2->features(torch::rand({1, 3, 16, 16}));
      },
      "needs images of at least 32 x 32");
  expect_error([&] { mnv2->features(torch::rand({1, 1, 64, 64})); }, "expects float [B, 3");
}
