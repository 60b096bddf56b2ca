// Tag heads (families, exclusive softmax, positive weights), per-tag thresholds (hand-made and
// planted cases), the Trainer on a tag set, and the tagger file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "lookalike/error.h"
#include "lookalike/eval/average_precision.h"
#include "lookalike/eval/learning_curve.h"
#include "lookalike/eval/multilabel.h"
#include "lookalike/eval/thresholds.h"
#include "lookalike/index/tag_rerank.h"
#include "lookalike/train/tag_heads.h"
#include "lookalike/train/tag_probe.h"
#include "lookalike/train/tagger.h"
#include "lookalike/train/trainer.h"
#include "lookalike/util/files.h"

using namespace lookalike;

namespace {

const std::vector<std::string> kTags = {"colour:dark", "colour:light", "garment:bag",
                                        "garment:coat"};

train::TagHeadOptions exclusive_colour() {
  train::TagHeadOptions o;
  o.exclusive = {"colour"};
  return o;
}

// 8x8 grey photos: "part:top" / "part:bottom" when that half holds a bright bar (independent),
// "shade:dark" / "shade:light" from the background level, unlabelled for a quarter of them.
data::Dataset bars(int64_t n, uint64_t seed) {
  auto g = torch::make_generator<at::CPUGeneratorImpl>(seed);
  auto targets = torch::zeros({n, 4});
  auto images = torch::rand({n, 1, 8, 8}, g).mul(0.2);
  auto coin = torch::rand({n, 4}, g);
  for (int64_t i = 0; i < n; ++i) {
    const bool light = coin[i][2].item<float>() < 0.5f;
    if (light) images[i].add_(0.3);
    if (coin[i][3].item<float>() < 0.75f) targets[i][light ? 3 : 2] = 1;  // shade labelled
    for (int part = 0; part < 2; ++part) {
      if (coin[i][part].item<float>() < 0.4f) {
        images[i].narrow(1, part * 4, 4).narrow(2, 2, 4).add_(0.5);
        targets[i][part] = 1;
      }
    }
  }
  data::Dataset d;
  d.images = images.clamp(0, 1).mul(255).to(torch::kUInt8);
  d.targets = targets;
  d.tags = {"part:bottom", "part:top", "shade:dark", "shade:light"};
  return d;
}

train::TrainOptions tag_options() {
  train::TrainOptions o;
  o.epochs = 6;
  o.batch_size = 32;
  o.lr = 1e-2;
  o.model.channels = {8, 16};
  o.model.embedding_dim = 16;
  o.progress = "off";
  o.seed = 3;
  o.tags.exclusive = {"shade"};
  return o;
}

}  // namespace

TEST(TagHeads, FamiliesFromNames) {
  auto f = train::tag_families({"a:x", "b:y", "a:z", "plain"}, {"a"});
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].name, "a");
  EXPECT_EQ(f[0].columns, (std::vector<int64_t>{0, 2}));
  EXPECT_TRUE(f[0].exclusive);
  EXPECT_FALSE(f[1].exclusive);
  EXPECT_EQ(f[2].name, "tag");
  EXPECT_THROW(train::tag_families({"a:x"}, {"colour"}), InvalidArgument);
}

TEST(TagHeads, LossIsBceOfMultiLabelColumnsPlusCrossEntropyOfExclusiveFamilies) {
  auto targets = torch::tensor({{1.f, 0.f, 1.f, 0.f}, {0.f, 0.f, 0.f, 1.f}, {0.f, 1.f, 1.f, 1.f}});
  auto logits =
      torch::tensor({{2.f, -1.f, 0.5f, 0.f}, {0.f, 3.f, -2.f, 1.f}, {1.f, 1.f, 0.f, 0.f}});
  train::TagHeads heads(kTags, exclusive_colour(), targets);
  // by hand: BCE over the garment columns (6 terms), CE over rows 0 and 2 (row 1 unlabelled)
  auto bce = [](double x, double y) {
    const double p = 1.0 / (1.0 + std::exp(-x));
    return -(y * std::log(p) + (1 - y) * std::log(1 - p));
  };
  const double garment =
      (bce(0.5, 1) + bce(0, 0) + bce(-2, 0) + bce(1, 1) + bce(0, 1) + bce(0, 1)) / 6;
  const double ce0 = -(2.0 - std::log(std::exp(2.0) + std::exp(-1.0)));
  const double ce2 = -(1.0 - std::log(2 * std::exp(1.0)));
  EXPECT_NEAR(heads.loss(logits, targets).item<double>(), garment + (ce0 + ce2) / 2, 1e-6);
  auto p = heads.probabilities(logits);
  EXPECT_TRUE(torch::allclose(p.slice(1, 0, 2).sum(1), torch::ones({3})));
  EXPECT_NEAR(p[0][2].item<double>(), 1.0 / (1.0 + std::exp(-0.5)), 1e-6);
}

TEST(TagHeads, PositiveWeightsAndTagsWithoutPositives) {
  // garment:bag on 1 of 4 photos (weight 3), garment:coat on none (weight 1, reported)
  auto targets = torch::tensor(
      {{1.f, 0.f, 1.f, 0.f}, {1.f, 0.f, 0.f, 0.f}, {0.f, 1.f, 0.f, 0.f}, {1.f, 0.f, 0.f, 0.f}});
  auto o = exclusive_colour();
  o.tag_pos_weight = "balanced";
  train::TagHeads heads(kTags, o, targets);
  // colour (exclusive): 4 labelled, dark 3 and light 1: n / (K count) = 4/6 and 2
  EXPECT_TRUE(torch::allclose(heads.weights(), torch::tensor({4.f / 6, 2.f, 3.f, 1.f})));
  EXPECT_EQ(heads.tags_without_positives(), (std::vector<std::string>{"garment:coat"}));
  o.tag_pos_weight = "sqrt";
  train::TagHeads root(kTags, o, targets);
  EXPECT_NEAR(root.weights()[2].item<double>(), std::sqrt(3.0), 1e-6);
}

TEST(TagHeads, BadTargets) {
  auto two_colours = torch::tensor({{1.f, 1.f, 0.f, 0.f}});
  EXPECT_THROW(train::TagHeads(kTags, exclusive_colour(), two_colours), InvalidArgument);
  EXPECT_THROW(train::TagHeads(kTags, {}, torch::full({2, 4}, 0.5f)), InvalidArgument);
  EXPECT_THROW(train::TagHeads(kTags, {}, torch::zeros({2, 3})), InvalidArgument);
  auto o = exclusive_colour();
  o.tag_pos_weight = "inverse";
  EXPECT_THROW(train::TagHeads(kTags, o, torch::zeros({2, 4})), InvalidArgument);
}

TEST(Thresholds, HandMadeColumn) {
  auto scores = torch::tensor({0.9f, 0.8f, 0.7f, 0.6f, 0.5f}).unsqueeze(1);
  auto targets = torch::tensor({1.f, 1.f, 0.f, 1.f, 0.f}).unsqueeze(1);
  // F1 at each cut: 0.5, 0.8, 0.667, 0.857, 0.75: best keeps 0.9..0.6, threshold halfway to 0.5
  auto f1 = eval::choose_thresholds(scores, targets);
  EXPECT_NEAR(f1.threshold[0].item<double>(), 0.55, 1e-6);
  EXPECT_NEAR(f1.f1[0].item<double>(), 6.0 / 7.0, 1e-6);
  EXPECT_NEAR(f1.recall[0].item<double>(), 1.0, 1e-6);
  eval::ThresholdOptions o;
  o.rule = "precision";
  o.precision = 0.75;  // precision per cut 1, 1, 0.667, 0.75, 0.6: the lowest reaching 0.75
  EXPECT_NEAR(eval::choose_thresholds(scores, targets, o).threshold[0].item<double>(), 0.55, 1e-6);
  o.precision = 0.9;
  EXPECT_NEAR(eval::choose_thresholds(scores, targets, o).threshold[0].item<double>(), 0.75, 1e-6);
  // precision 1 cannot be had when the top score is a negative: nothing predicted, flagged
  auto flipped = torch::tensor({0.f, 1.f, 0.f, 1.f, 0.f}).unsqueeze(1);
  o.precision = 1.0;
  auto none = eval::choose_thresholds(scores, flipped, o);
  EXPECT_TRUE(none.fallback[0].item<bool>());
  EXPECT_EQ(eval::apply_thresholds(scores, none.threshold).sum().item<double>(), 0.0);
  // no positive: the fallback threshold
  auto empty = eval::choose_thresholds(scores, torch::zeros({5, 1}));
  EXPECT_TRUE(empty.fallback[0].item<bool>());
  EXPECT_FLOAT_EQ(empty.threshold[0].item<float>(), 0.5f);
}

TEST(Thresholds, PlantedThresholdChosenOnValidationHoldsOnTest) {
  // tag j is present exactly when its score exceeds a planted cut c_j; the threshold chosen on
  // validation must lie between the highest negative and the lowest positive of validation, and
  // applied unchanged to test photos drawn the same way, classify almost all of them right
  auto g = torch::make_generator<at::CPUGeneratorImpl>(5);
  const auto cuts = torch::tensor({0.3f, 0.62f, 0.85f});
  auto draw = [&](int64_t n) {
    auto s = torch::rand({n, 3}, g);
    return std::make_pair(s, s.gt(cuts).to(torch::kFloat));
  };
  auto [val_s, val_y] = draw(2000);
  auto [test_s, test_y] = draw(2000);
  auto chosen = eval::choose_thresholds(val_s, val_y);
  for (int64_t j = 0; j < 3; ++j) {
    const auto col = val_s.select(1, j), y = val_y.select(1, j).to(torch::kBool);
    EXPECT_GT(chosen.threshold[j].item<float>(), col.masked_select(~y).max().item<float>());
    EXPECT_LE(chosen.threshold[j].item<float>(), col.masked_select(y).min().item<float>());
    EXPECT_NEAR(chosen.threshold[j].item<double>(), cuts[j].item<double>(), 0.01);
    EXPECT_DOUBLE_EQ(chosen.f1[j].item<double>(), 1.0);
  }
  auto test_f1 = eval::f1_per_column(eval::apply_thresholds(test_s, chosen.threshold), test_y);
  EXPECT_GT(test_f1.min().item<double>(), 0.98);
}

TEST(TagTraining, LearnsPlantedTagsAndTheTaggerFileKeepsTheThresholds) {
  auto train_set = bars(512, 1), val_set = bars(256, 2), test_set = bars(256, 3);
  auto result = train::Trainer(tag_options()).fit(train_set, val_set);
  ASSERT_EQ(result.history.size(), 6u);
  const auto& last = result.history.back();
  EXPECT_GT(last.at("val_map_macro"), 0.9);
  EXPECT_GT(last.at("val_map_micro"), 0.9);
  EXPECT_EQ(result.history.front().at("tags_without_positives"), 0);
  EXPECT_EQ(last.count("train_accuracy"), 0u);
  EXPECT_LT(last.at("train_loss"), result.history.front().at("train_loss"));

  train::Tagger tagger{result.model, train_set.tags, {"shade"}, {}, {}};
  auto val_scores = train::tag_scores(tagger, val_set.images);
  // the exclusive family's two scores sum to one
  EXPECT_TRUE(torch::allclose(val_scores.slice(1, 2, 4).sum(1), torch::ones({256}), 1e-5, 1e-5));
  EXPECT_THROW(train::predict_tags(tagger, val_scores), InvalidArgument);
  train::fit_thresholds(tagger, val_scores, val_set.targets);
  auto test_scores = train::tag_scores(tagger, test_set.images);
  auto predicted = train::predict_tags(tagger, test_scores);
  EXPECT_GT(eval::f1_per_column(predicted.slice(1, 0, 2), test_set.targets.slice(1, 0, 2))
                .min()
                .item<double>(),
            0.85);

  const auto path = util::make_temp_dir("lookalike_tagger_") + "/tagger.pt";
  train::save_tagger(tagger, path);
  auto loaded = train::load_tagger(path);
  EXPECT_EQ(loaded.tags, tagger.tags);
  EXPECT_EQ(loaded.exclusive, tagger.exclusive);
  EXPECT_TRUE(torch::equal(loaded.thresholds, tagger.thresholds));
  EXPECT_TRUE(torch::allclose(train::tag_scores(loaded, test_set.images), test_scores, 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(train::predict_tags(loaded, test_scores), predicted));
  util::write_file_atomic(path, "not a tagger");
  EXPECT_THROW(train::load_tagger(path), FileError);
}

TEST(TagTraining, OptionsThatDoNotApplyAreErrors) {
  auto tags = bars(64, 1);
  auto o = tag_options();
  o.epochs = 1;
  auto metric = o;
  metric.metric.loss = "triplet";
  EXPECT_THROW(train::Trainer(metric).fit(tags), InvalidArgument);
  auto balanced = o;
  balanced.sampler = "class_balanced";
  EXPECT_THROW(train::Trainer(balanced).fit(tags), InvalidArgument);
  auto wrong_tags = tags;
  wrong_tags.tags.pop_back();
  EXPECT_THROW(train::Trainer(o).fit(wrong_tags), InvalidArgument);
  // tag options on a set with single labels
  data::Dataset labelled{tags.images, torch::zeros({64}, torch::kLong)};
  EXPECT_THROW(train::Trainer(o).fit(labelled), InvalidArgument);
}

TEST(TagProbe, LearnsPlantedFeaturesAndIgnoresFeatureScale) {
  // 3 features; tag "x:a" iff feature 0 > 0, family "c" exclusive: c:lo iff feature 1 < 0
  auto g = torch::make_generator<at::CPUGeneratorImpl>(2);
  auto f = torch::randn({400, 3}, g);
  auto targets = torch::stack({f.select(1, 0).gt(0), f.select(1, 1).lt(0), f.select(1, 1).ge(0)}, 1)
                     .to(torch::kFloat);
  const std::vector<std::string> names = {"x:a", "c:lo", "c:hi"};
  train::TagHeadOptions heads;
  heads.exclusive = {"c"};
  train::ProbeOptions o;
  o.epochs = 200;
  o.lr = 0.05;
  util::Record record;
  auto probe = train::fit_tag_probe(f, targets, names, heads, o, &record);
  auto scores = probe.scores(f);
  EXPECT_GT(eval::mean_average_precision(scores, targets).at("macro"), 0.99);
  EXPECT_TRUE(torch::allclose(scores.slice(1, 1, 3).sum(1), torch::ones({400}), 1e-5, 1e-5));
  EXPECT_GT(record.at("seconds"), 0.0);
  // standardised features: scaling a feature changes nothing
  auto scaled = f.clone();
  scaled.select(1, 2).mul_(1000);
  auto again = train::fit_tag_probe(scaled, targets, names, heads, o);
  EXPECT_TRUE(torch::allclose(again.scores(scaled), scores, 1e-4, 1e-4));
  auto bad = f.clone();
  bad[0][0] = NAN;
  EXPECT_THROW(train::fit_tag_probe(bad, targets, names, heads, o), InvalidArgument);
  o.loss.name = "asl";  // the heads own the loss
  EXPECT_THROW(train::fit_tag_probe(f, targets, names, heads, o), InvalidArgument);
}

TEST(LearningCurves, HandMadeSummary) {
  // two tags in group 0, one in group 1, one in none; three training sizes
  auto positives =
      torch::tensor({{1.f, 3.f, 2.f, 5.f}, {3.f, 15.f, 8.f, 9.f}, {7.f, 63.f, 20.f, 9.f}});
  auto ap =
      torch::tensor({{0.2f, 0.6f, 0.1f, 0.f}, {0.4f, 0.8f, NAN, 0.f}, {0.6f, 0.9f, 0.3f, 0.f}});
  auto groups = torch::tensor({0L, 0L, 1L, -1L});
  auto s = eval::summarise_curves(positives, ap, groups, 2, 0.5);
  EXPECT_NEAR(s.group_ap[0][0].item<double>(), 0.4, 1e-6);
  EXPECT_TRUE(std::isnan(s.group_ap[1][1].item<double>()));
  EXPECT_NEAR(s.group_positives[0][1].item<double>(), 9.0, 1e-6);  // median of 3 and 15
  // tag 0 crosses 0.5 halfway between log(1 + 3) and log(1 + 7): exp(0.5 log 4 + 0.5 log 8) - 1
  EXPECT_NEAR(s.tag_needed[0].item<double>(), std::sqrt(32.0) - 1, 1e-4);
  EXPECT_NEAR(s.tag_needed[1].item<double>(), 3.0, 1e-6);  // at target from its first point
  EXPECT_TRUE(std::isnan(s.tag_needed[2].item<double>()));
  EXPECT_NEAR(s.group_needed[0].item<double>(), 0.5 * (std::sqrt(32.0) - 1 + 3), 1e-4);
  EXPECT_NEAR(s.group_reached[0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(s.group_reached[1].item<double>(), 0.0, 1e-6);
  EXPECT_THROW(eval::summarise_curves(positives.flip(0), ap, groups, 2, 0.5), InvalidArgument);
  EXPECT_THROW(eval::summarise_curves(positives, ap, torch::tensor({0L, 0L, 2L, -1L}), 2, 0.5),
               InvalidArgument);
}

TEST(TagRerank, FilterAndRerankHandMade) {
  // one query, four candidates in visual order 2, 0, 3, 1 (similarities 0.9 .. 0.6)
  auto candidates = torch::tensor({{2L, 0L, 3L, 1L}});
  auto sims = torch::tensor({{0.9f, 0.8f, 0.7f, 0.6f}});
  auto scores =
      torch::tensor({{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.1f}, {0.5f, 0.6f}});  // [G=4, T=2]
  auto thresholds = torch::tensor({0.4f, 0.5f});
  auto wanted = torch::tensor({0L});
  index::TagRerankOptions o;
  o.k = 3;
  o.mode = "filter";  // tag 0 at >= 0.4: rows 1 (0.8) and 3 (0.5), in visual order 3, 1
  auto [ids, s] = index::tag_rerank(candidates, sims, scores, thresholds, wanted, o);
  EXPECT_TRUE(torch::equal(ids, torch::tensor({{3L, 1L, -1L}})));
  EXPECT_TRUE(std::isnan(s[0][2].item<float>()));
  o.mode = "rerank";  // 0.9+0.3, 0.8+0.1, 0.7+0.5, 0.6+0.8: rows 1 (1.4), 2 (1.2, first), 3 (1.2)
  auto [rr, rs] = index::tag_rerank(candidates, sims, scores, thresholds, wanted, o);
  EXPECT_TRUE(torch::equal(rr, torch::tensor({{1L, 2L, 3L}})));
  EXPECT_NEAR(rs[0][0].item<double>(), 1.4, 1e-6);
  // share at k: tag 0 carried by rows 1 and 3
  auto targets = torch::tensor({{0.f, 1.f}, {1.f, 0.f}, {0.f, 0.f}, {1.f, 1.f}});
  EXPECT_NEAR(index::tag_share_at_k(rr, targets, wanted), 2.0 / 3.0, 1e-9);
  EXPECT_NEAR(index::tag_share_at_k(ids, targets, wanted), 2.0 / 3.0, 1e-9);  // the -1 slot: no
  EXPECT_TRUE(std::isnan(index::tag_share_at_k(ids, targets, torch::tensor({-1L}))));
  EXPECT_THROW(index::tag_rerank(candidates, sims, scores, thresholds, torch::tensor({2L}), o),
               InvalidArgument);
  o.mode = "boost";
  EXPECT_THROW(index::tag_rerank(candidates, sims, scores, thresholds, wanted, o), InvalidArgument);
}
