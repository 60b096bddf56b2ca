// Localisation: boxes from hand-made activation maps, IoU and box accuracy against hand-computed
// values, CAM against its defining identities (mean of the map + bias = the logit; Grad-CAM of a
// CAM network = ReLU(CAM) / (h w)), the linear probe and average precision on known cases.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "lookalike/error.h"
#include "lookalike/eval/average_precision.h"
#include "lookalike/localise/boxes.h"
#include "lookalike/localise/cam.h"
#include "lookalike/localise/localise.h"
#include "lookalike/localise/wsol.h"
#include "lookalike/train/linear_probe.h"

using namespace lookalike;
namespace lz = lookalike::localise;

namespace {

torch::Tensor box(int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
  return torch::tensor({x0, y0, x1, y1}, torch::kLong).view({1, 4});
}

models::Net small_net(int64_t embedding_dim, int64_t classes) {
  torch::manual_seed(3);
  models::NetOptions o;
  o.backbone = "convnet";
  o.channels = {8, 16};
  o.in_channels = 3;
  o.embedding_dim = static_cast<int>(embedding_dim);
  o.num_classes = static_cast<int>(classes);
  return models::make_net(o);
}

}  // namespace

TEST(Localise, BoxOfTheLargestComponent) {
  // a 12x10 map: a 3x4 blob (rows 2-4, columns 3-6) and a 2x2 one (rows 8-9, columns 0-1)
  auto map = torch::zeros({1, 10, 12});
  map[0].slice(0, 2, 5).slice(1, 3, 7).fill_(1.0);
  map[0].slice(0, 8, 10).slice(1, 0, 2).fill_(0.8);
  const auto size = torch::tensor({12, 10}, torch::kLong);  // no resize
  auto b = lz::boxes_from_maps(map, size, {0.5, 0.9});
  EXPECT_TRUE(torch::equal(b[0], box(3, 2, 7, 5)));
  EXPECT_TRUE(torch::equal(b[1], box(3, 2, 7, 5)));
  auto all = lz::boxes_from_maps(map, size, {0.5}, "all");
  EXPECT_TRUE(torch::equal(all[0], box(0, 2, 7, 10)));
  // threshold 0: every pixel above the minimum... the blobs only (the rest equals the minimum)
  EXPECT_TRUE(torch::equal(lz::boxes_from_maps(map, size, {0.0})[0], box(3, 2, 7, 5)));
  // a constant map has no pixel above any threshold: the empty box
  EXPECT_TRUE(
      torch::equal(lz::boxes_from_maps(torch::ones({1, 4, 4}), size, {0.2})[0], box(0, 0, 0, 0)));
  // resized: a 2x2 map whose top-left cell is hot, onto a 40x40 photo: the box stays top-left
  auto coarse = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f}).view({1, 2, 2});
  auto r = lz::boxes_from_maps(coarse, torch::tensor({40, 40}, torch::kLong), {0.5})[0][0];
  EXPECT_EQ(r[0].item<int64_t>(), 0);
  EXPECT_EQ(r[1].item<int64_t>(), 0);
  EXPECT_GE(r[2].item<int64_t>(), 15);
  EXPECT_LE(r[2].item<int64_t>(), 25);
  EXPECT_THROW(lz::boxes_from_maps(map, size, {1.5}), InvalidArgument);
  EXPECT_THROW(lz::boxes_from_maps(map * NAN, size, {0.5}), InvalidArgument);
  EXPECT_THROW(lz::boxes_from_maps(map, size, {0.5}, "biggest"), InvalidArgument);
}

TEST(Localise, IouAndBoxAccuracyByHand) {
  auto a = torch::cat({box(0, 0, 10, 10), box(0, 0, 10, 10), box(0, 0, 4, 4), box(0, 0, 0, 0)});
  auto b = torch::cat({box(5, 5, 15, 15), box(0, 0, 10, 10), box(10, 10, 12, 12), box(0, 0, 0, 0)});
  auto iou = lz::box_iou(a, b);
  EXPECT_NEAR(iou[0].item<float>(), 25.0 / 175.0, 1e-6);
  EXPECT_FLOAT_EQ(iou[1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(iou[2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(iou[3].item<float>(), 0.0f);

  // 3 rows, 2 thresholds; truth (0,0,10,10) each; groups {0, 0, 1}
  auto truth = torch::cat({box(0, 0, 10, 10), box(0, 0, 10, 10), box(0, 0, 10, 10)});
  auto t0 = torch::cat({box(0, 0, 10, 10), box(0, 0, 10, 4), box(0, 0, 9, 9)});  // 1, .4, .81
  auto t1 = torch::cat({box(0, 0, 10, 6), box(0, 0, 10, 6), box(0, 0, 2, 2)});   // .6, .6, .04
  auto acc = lz::box_accuracy(torch::stack({t0, t1}), truth, torch::tensor({0L, 0L, 1L}), 3);
  EXPECT_NEAR(acc.accuracy[0].item<float>(), 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(acc.accuracy[1].item<float>(), 2.0 / 3.0, 1e-6);
  EXPECT_EQ(acc.best, 0);  // the first of equal maxima
  EXPECT_NEAR(acc.max_box_acc, 2.0 / 3.0, 1e-6);
  EXPECT_FLOAT_EQ(acc.group_accuracy[0][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(acc.group_accuracy[0][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(acc.group_max[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(acc.group_max[1].item<float>(), 1.0f);
  EXPECT_TRUE(std::isnan(acc.group_max[2].item<float>()));  // a group without rows
  EXPECT_EQ(acc.group_rows[0].item<int64_t>(), 2);
  EXPECT_THROW(lz::box_accuracy(torch::stack({t0}), truth, torch::tensor({0L, 0L, 3L}), 3),
               InvalidArgument);
  EXPECT_EQ(lz::threshold_grid(0.25), (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
}

TEST(Localise, BaselineBoxesAndBoxChecks) {
  auto sizes = torch::tensor({{100L, 200L}, {50L, 50L}});
  EXPECT_TRUE(
      torch::equal(lz::whole_boxes(sizes), torch::cat({box(0, 0, 100, 200), box(0, 0, 50, 50)})));
  // group 0: boxes of 20 % x 10 % and 40 % x 30 % of their photo -> mean 30 % x 20 %
  auto ref = torch::cat({box(0, 0, 20, 20), box(10, 10, 50, 70)});
  auto centred = lz::centred_mean_boxes(ref, torch::tensor({0L, 0L}), sizes.select(0, 0),
                                        torch::tensor({0L, 1L}), sizes);
  EXPECT_TRUE(torch::equal(centred[0], box(35, 80, 65, 120)[0]));  // 30 x 40 in 100 x 200
  EXPECT_TRUE(torch::equal(centred[1], box(17, 20, 32, 30)[0]));   // group 1: the overall mean
  EXPECT_THROW(lz::check_boxes(box(0, 0, 101, 10), torch::tensor({100L, 200L}), "gt"),
               InvalidArgument);
  EXPECT_THROW(lz::check_boxes(box(5, 0, 4, 10), torch::tensor({100L, 200L}), "gt"),
               InvalidArgument);
  EXPECT_NO_THROW(lz::check_boxes(box(0, 0, 100, 200), torch::tensor({100L, 200L}), "gt"));
}

TEST(Localise, CropIsTheRegion) {
  auto images = torch::randint(0, 255, {2, 3, 20, 30}, torch::kUInt8);
  auto boxes = torch::cat({box(5, 4, 15, 14), box(0, 0, 0, 0)});
  auto crops = lz::crop_images(images, boxes, 10);
  EXPECT_TRUE(torch::equal(crops[0], images[0].slice(1, 4, 14).slice(2, 5, 15)));
  EXPECT_EQ(crops.sizes(), (std::vector<int64_t>{2, 3, 10, 10}));
  EXPECT_THROW(lz::crop_images(images, torch::cat({box(0, 0, 31, 5), box(0, 0, 1, 1)}), 10),
               InvalidArgument);
}

TEST(Localise, CamIsTheClassifierOverTheMap) {
  auto net = small_net(0, 3);
  auto images = torch::rand({4, 3, 16, 16});
  auto classes = torch::tensor({0L, 2L, 1L, -1L});
  auto maps = lz::activation_maps(net, images, classes);
  ASSERT_EQ(maps.maps.sizes(), (std::vector<int64_t>{4, 8, 8}));  // two stages: stride 2
  net->eval();
  torch::NoGradGuard no_grad;
  auto logits = net->forward(images).logits;
  auto bias = net->classifier()->bias;
  for (int64_t i = 0; i < 4; ++i) {
    const int64_t c = maps.classes[i].item<int64_t>();
    if (i < 3) EXPECT_EQ(c, classes[i].item<int64_t>());
    // the convnet's map is non-negative (ReLU), so the classifier's ReLU changes nothing
    EXPECT_NEAR(maps.maps[i].mean().item<float>() + bias[c].item<float>(),
                logits[i][c].item<float>(), 1e-4);
    EXPECT_NEAR(maps.scores[i].item<float>(), logits[i][c].item<float>(), 1e-5);
  }
  EXPECT_EQ(maps.classes[3].item<int64_t>(), logits[3].argmax().item<int64_t>());
  lz::CamOptions grad;
  grad.method = "gradcam";
  auto g = lz::activation_maps(net, images, classes, {}, grad);
  EXPECT_TRUE(torch::allclose(g.maps * 64, torch::relu(maps.maps), 1e-4, 1e-5));
  // rows of one image for several classes, through image_index
  auto rows =
      lz::activation_maps(net, images, torch::tensor({0L, 1L, 2L}), torch::tensor({1L, 1L, 1L}));
  EXPECT_TRUE(torch::allclose(rows.maps[2], maps.maps[1], 1e-5, 1e-6));
}

TEST(Localise, CamNeedsAPlainHeadAndValidRows) {
  auto projected = small_net(8, 3);
  EXPECT_EQ(lz::resolve_cam_method(projected, "auto"), "gradcam");
  lz::CamOptions cam;
  cam.method = "cam";
  auto images = torch::rand({2, 3, 16, 16});
  EXPECT_THROW(lz::activation_maps(projected, images, {}, {}, cam), InvalidArgument);
  auto g = lz::activation_maps(projected, images);  // auto: Grad-CAM through the projection
  EXPECT_EQ(g.maps.size(0), 2);
  EXPECT_GE(g.maps.min().item<float>(), 0.0f);
  auto plain = small_net(0, 3);
  EXPECT_THROW(lz::activation_maps(plain, images, torch::tensor({3L, 0L})), InvalidArgument);
  EXPECT_THROW(lz::activation_maps(plain, images, torch::tensor({0L}), torch::tensor({2L})),
               InvalidArgument);
  auto headless = small_net(0, 0);
  EXPECT_THROW(lz::activation_maps(headless, images), InvalidArgument);
  auto loc = lz::localise(plain, images, {}, {}, torch::tensor({32L, 48L}));
  lz::check_boxes(loc.boxes, torch::tensor({32L, 48L}), "localise");
}

TEST(Localise, LinearProbeLearnsSeparableTags) {
  auto net = small_net(0, 2);
  torch::manual_seed(0);
  auto features = torch::rand({200, 16});
  // tag 0: feature 0 high; tag 1: feature 1 high (independent)
  auto targets = torch::stack({(features.select(1, 0) > 0.5), (features.select(1, 1) > 0.5)}, 1)
                     .to(torch::kFloat);
  train::ProbeOptions o;
  o.epochs = 500;
  o.lr = 0.05;
  o.weight_decay = 0.0;
  auto r = train::fit_linear_probe(net, features, targets, o);
  EXPECT_LT(r.at("loss"), 0.2);
  torch::NoGradGuard no_grad;
  auto logits = net->classifier()->forward(features);
  EXPECT_GE(((logits > 0).to(torch::kFloat) == targets).to(torch::kFloat).mean().item<float>(),
            0.97f);
  EXPECT_THROW(train::fit_linear_probe(net, features, targets * 2, o), InvalidArgument);
  EXPECT_THROW(train::fit_linear_probe(net, features.slice(1, 0, 8), targets, o), InvalidArgument);
}

TEST(Eval, AveragePrecisionByHand) {
  // ranks: + - + -: AP = 1/2 * 1 + 1/2 * 2/3
  auto ap = eval::average_precision(torch::tensor({0.9f, 0.8f, 0.7f, 0.6f}),
                                    torch::tensor({1.0f, 0.0f, 1.0f, 0.0f}));
  EXPECT_NEAR(ap, 0.5 + 1.0 / 3.0, 1e-9);
  // a tie between a positive and a negative at the top: one step, precision 1/2
  EXPECT_NEAR(eval::average_precision(torch::tensor({0.5f, 0.5f}), torch::tensor({1.0f, 0.0f})),
              0.5, 1e-9);
  EXPECT_TRUE(std::isnan(
      eval::average_precision(torch::tensor({0.5f, 0.4f}), torch::tensor({0.0f, 0.0f}))));
  EXPECT_THROW(eval::average_precision(torch::tensor({NAN, 0.4f}), torch::tensor({1.0f, 0.0f})),
               InvalidArgument);
  auto m = eval::mean_average_precision(torch::tensor({{0.9f, 0.1f}, {0.2f, 0.8f}}),
                                        torch::tensor({{1.0f, 0.0f}, {0.0f, 0.0f}}));
  EXPECT_DOUBLE_EQ(m.at("macro"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("columns"), 1.0);
}
