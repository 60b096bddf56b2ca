// Local features, matching, verification and re-ranking against hand-made cases and planted
// transforms (the comparison with OpenCV's Python API is in tests/python/test_local.py).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "lookalike/error.h"
#include "lookalike/local/feature_file.h"
#include "lookalike/local/features.h"
#include "lookalike/local/match.h"
#include "lookalike/local/rerank.h"
#include "lookalike/local/verify.h"
#include "lookalike/util/files.h"

using namespace lookalike;
using local::LocalFeatures;

namespace {

LocalFeatures features(torch::Tensor xy, torch::Tensor desc, int64_t side = 200) {
  const int64_t k = xy.size(0);
  LocalFeatures f;
  f.keypoints = torch::cat(
      {xy.to(torch::kFloat32), torch::full({k, 1}, 8.0f), torch::full({k, 1}, -1.0f)}, 1);
  f.descriptors = desc;
  f.strength = torch::linspace(1, 0.5, k).to(torch::kFloat32);
  f.width = f.height = side;
  return f;
}

// n points in a, their images under the 3x3 h in b (the first n_true), the rest at random
// places; descriptors: each a point's own random unit vector, the same in both.
std::pair<LocalFeatures, LocalFeatures> planted(const torch::Tensor& h, int64_t n, int64_t n_true,
                                                uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto xy = torch::rand({n, 2}, g) * 180 + 10;
  auto hom = torch::cat({xy, torch::ones({n, 1})}, 1).to(torch::kFloat64).matmul(h.t());
  auto mapped = (hom.slice(1, 0, 2) / hom.slice(1, 2, 3)).to(torch::kFloat32);
  auto elsewhere = torch::rand({n, 2}, g) * 180 + 10;
  auto rows = torch::arange(n).lt(n_true).unsqueeze(1);
  auto xy_b = torch::where(rows, mapped, elsewhere);
  auto desc = torch::nn::functional::normalize(
      torch::randn({n, 32}, g), torch::nn::functional::NormalizeFuncOptions().dim(1));
  return {features(xy, desc), features(xy_b, desc.clone())};
}

}  // namespace

TEST(LocalMatch, RatioTestAndMutualByHand) {
  // a0 is nearest b0 (0.1) with b1 second (1.0): passes the ratio test; a1 is as near b1 as b2
  // (0.5 and 0.52: ratio 0.96 fails); a2's nearest is b0, but b0's nearest is a0 (not mutual).
  auto a = torch::tensor({0.0f, 0.0f, 10.0f, 0.0f, 0.3f, 0.0f}).view({3, 2});
  auto b = torch::tensor({0.1f, 0.0f, 1.0f, 0.0f, 10.5f, 0.0f, 9.48f, 0.0f}).view({4, 2});
  // distances a1 -> b2 0.5, b3 0.52
  auto fa = features(torch::zeros({3, 2}), a), fb = features(torch::zeros({4, 2}), b);
  for (const char* search : {"brute", "faiss"}) {
    local::MatchOptions o;
    o.search = search;
    auto m = local::match_features(fa, fb, o);
    ASSERT_EQ(m.size(), 1) << search;
    EXPECT_EQ(m.pairs[0][0].item<int64_t>(), 0);
    EXPECT_EQ(m.pairs[0][1].item<int64_t>(), 0);
    EXPECT_NEAR(m.distances[0].item<float>(), 0.1f, 1e-5) << search;
    o.ratio = 1.0;  // off: a1 -> b2 comes in; a2 still not mutual
    m = local::match_features(fa, fb, o);
    ASSERT_EQ(m.size(), 2) << search;
    EXPECT_EQ(m.pairs[1][1].item<int64_t>(), 2);
    o.mutual = false;  // and a2 -> b0
    EXPECT_EQ(local::match_features(fa, fb, o).size(), 3) << search;
  }
}

TEST(LocalMatch, BruteAndFaissAgreeFloatAndBinary) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(3);
  auto fa = features(torch::zeros({300, 2}), torch::randn({300, 64}, g));
  auto noisy = fa.descriptors.slice(0, 0, 200) + 0.3 * torch::randn({200, 64}, g);
  auto fb = features(torch::zeros({400, 2}), torch::cat({noisy, torch::randn({200, 64}, g)}));
  local::MatchOptions brute, faiss;
  brute.search = "brute";
  faiss.search = "faiss";
  auto m1 = local::match_features(fa, fb, brute), m2 = local::match_features(fa, fb, faiss);
  EXPECT_GT(m1.size(), 150);
  EXPECT_TRUE(torch::equal(m1.pairs, m2.pairs));
  EXPECT_TRUE(torch::allclose(m1.distances, m2.distances, 1e-3, 1e-3));
  // binary: 32 bytes, b = a with a few bits flipped for the first 100
  auto ba = torch::randint(0, 256, {150, 32}, g).to(torch::kUInt8);
  auto flips = (torch::rand({100, 32}, g) < 0.05).to(torch::kUInt8);
  auto bb = torch::cat({ba.slice(0, 0, 100).bitwise_xor(flips),
                        torch::randint(0, 256, {50, 32}, g).to(torch::kUInt8)});
  auto fa2 = features(torch::zeros({150, 2}), ba), fb2 = features(torch::zeros({150, 2}), bb);
  auto h1 = local::match_features(fa2, fb2, brute), h2 = local::match_features(fa2, fb2, faiss);
  EXPECT_EQ(h1.size(), 100);  // every flipped copy found, no random one passes the ratio test
  EXPECT_TRUE(torch::equal(h1.pairs, h2.pairs));
  EXPECT_TRUE(torch::equal(h1.pairs.select(1, 0), h1.pairs.select(1, 1)));
  // Hamming distance = the flipped bits
  auto bits = torch::zeros({100}, torch::kFloat32);
  for (int i = 0; i < 100; ++i) bits[i] = flips[i].sum().item<float>();
  EXPECT_TRUE(torch::equal(h1.distances, bits));
}

TEST(LocalMatch, EmptyAndMismatchedInputs) {
  auto fa = features(torch::zeros({5, 2}), torch::randn({5, 128}));
  auto blank = features(torch::zeros({0, 2}), torch::zeros({0, 128}));
  EXPECT_EQ(local::match_features(fa, blank).size(), 0);
  EXPECT_EQ(local::match_features(blank, fa).size(), 0);
  auto orb = features(torch::zeros({5, 2}), torch::zeros({5, 32}, torch::kUInt8));
  try {
    local::match_features(fa, orb);
    FAIL() << "float vs binary descriptors must be an error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("binary"), std::string::npos) << e.what();
  }
  auto nan = fa;
  nan.descriptors = fa.descriptors.clone();
  nan.descriptors[0][0] = NAN;
  EXPECT_THROW(local::match_features(nan, fa), InvalidArgument);
  local::MatchOptions bad;
  bad.ratio = 1.5;
  EXPECT_THROW(local::match_features(fa, fa, bad), InvalidArgument);
}

TEST(LocalVerify, RecoversAPlantedHomographyAndCountsItsInliers) {
  // rotation 20 degrees, scale 0.8, translation, a little perspective
  const double c = 0.8 * std::cos(0.349), s = 0.8 * std::sin(0.349);
  auto h =
      torch::tensor({c, -s, 30.0, s, c, -10.0, 1e-4, -2e-4, 1.0}, torch::kFloat64).view({3, 3});
  auto [a, b] = planted(h, 120, 80, 5);
  for (const char* estimator : {"magsac", "ransac"}) {
    local::VerifyOptions o;
    o.estimator = estimator;
    o.threshold = 3.0;
    auto v = local::verify_pair(a, b, o);
    EXPECT_EQ(v.matches.size(), 120) << estimator;  // unique descriptors: every point matches
    EXPECT_EQ(v.inliers, 80) << estimator;
    EXPECT_TRUE(torch::equal(v.inlier_mask, torch::arange(120).lt(80))) << estimator;
    ASSERT_TRUE(v.transform.defined());
    auto got = v.transform / v.transform[2][2];
    EXPECT_TRUE(torch::allclose(got, h, 1e-3, 1e-2)) << got << "\n" << h;
  }
  // a similarity (no perspective) found by the partial affine estimator
  auto sim = torch::tensor({c, -s, 30.0, s, c, -10.0, 0.0, 0.0, 1.0}, torch::kFloat64).view({3, 3});
  auto [a2, b2] = planted(sim, 60, 40, 6);
  for (const char* model : {"similarity", "affine"}) {
    local::VerifyOptions o;
    o.model = model;
    o.estimator = "ransac";
    auto v = local::verify_pair(a2, b2, o);
    EXPECT_EQ(v.inliers, 40) << model;
    EXPECT_TRUE(torch::allclose(v.transform, sim, 1e-4, 1e-3)) << model << v.transform;
  }
}

TEST(LocalVerify, TooFewMatchesIsAnEmptyResultAndBatchesEqualSinglePairs) {
  auto eye = torch::eye(3, torch::kFloat64);
  auto [a, b] = planted(eye, 3, 3, 7);  // three matches: fewer than a homography needs
  auto v = local::verify_pair(a, b);
  EXPECT_EQ(v.matches.size(), 3);
  EXPECT_EQ(v.inliers, 0);
  EXPECT_FALSE(v.transform.defined());
  local::VerifyOptions sim;
  sim.model = "similarity";
  sim.estimator = "ransac";
  EXPECT_EQ(local::verify_pair(a, b, sim).inliers, 3);
  EXPECT_EQ(local::min_matches("homography"), 4);
  EXPECT_THROW(local::min_matches("projective"), InvalidArgument);

  std::vector<LocalFeatures> qs, cs;
  for (int i = 0; i < 4; ++i) {
    auto [x, y] = planted(eye, 50, 10 + 10 * i, 20 + i);
    qs.push_back(x);
    cs.push_back(y);
  }
  auto pairs = torch::tensor({0, 0, 1, 1, 2, 2, 3, 3, 0, 3}, torch::kInt64).view({5, 2});
  auto counts = local::verify_pairs(qs, cs, pairs, {}, 2);
  for (int p = 0; p < 5; ++p) {
    auto one = local::verify_pair(qs[pairs[p][0].item<int64_t>()], cs[pairs[p][1].item<int64_t>()]);
    EXPECT_EQ(counts[p][0].item<int64_t>(), one.matches.size());
    EXPECT_EQ(counts[p][1].item<int64_t>(), one.inliers);
  }
  EXPECT_EQ(counts[2][1].item<int64_t>(), 30);
  EXPECT_LT(counts[4][1].item<int64_t>(), 5);  // unrelated pair: descriptors differ
  EXPECT_THROW(local::verify_pairs(qs, cs, torch::tensor({0, 4}, torch::kInt64).view({1, 2})),
               InvalidArgument);
}

TEST(LocalRerank, OrdersByInliersThenTheGlobalOrderAndFuses) {
  auto eye = torch::eye(3, torch::kFloat64);
  std::vector<LocalFeatures> qs, cs;
  auto [q, c0] = planted(eye, 60, 40, 30);
  qs.push_back(q);
  // candidate 0: 40 inliers; 1: unrelated; 2: 20 inliers (first 20 of q's points); 3: unrelated
  auto g = at::make_generator<at::CPUGeneratorImpl>(31);
  auto unrelated = [&] {
    return features(
        torch::rand({60, 2}, g) * 180,
        torch::nn::functional::normalize(torch::randn({60, 32}, g),
                                         torch::nn::functional::NormalizeFuncOptions().dim(1)));
  };
  auto c2 = q;
  c2.keypoints = q.keypoints.clone();
  c2.keypoints.slice(0, 20).slice(1, 0, 2).copy_(torch::rand({40, 2}, g) * 180);
  cs = {c0, unrelated(), c2, unrelated()};
  auto ids = torch::tensor({1, 3, 2, 0, -1}, torch::kInt64).view({1, 5});
  auto global = torch::tensor({0.9f, 0.8f, 0.7f, 0.6f, 0.0f}).view({1, 5});
  local::RerankOptions o;
  o.min_inliers = 8;
  auto r = local::rerank(ids, global, qs, cs, o);
  EXPECT_EQ(r.ids[0][0].item<int64_t>(), 0);
  EXPECT_EQ(r.ids[0][1].item<int64_t>(), 2);
  EXPECT_EQ(r.ids[0][2].item<int64_t>(), 1);  // unverified keep the global order
  EXPECT_EQ(r.ids[0][3].item<int64_t>(), 3);
  EXPECT_EQ(r.ids[0][4].item<int64_t>(), -1);
  EXPECT_EQ(r.inliers[0][0].item<int64_t>(), 40);
  EXPECT_EQ(r.inliers[0][1].item<int64_t>(), 20);
  EXPECT_EQ(r.inliers[0][4].item<int64_t>(), -1);
  // fused with a cap of 50: 0.6 + 40/50 = 1.4, 0.7 + 20/50 = 1.1, then 0.9 + i/50, 0.8 + i/50
  o.score = "fused";
  o.inlier_cap = 50;
  r = local::rerank(ids, global, qs, cs, o);
  EXPECT_EQ(r.ids[0][0].item<int64_t>(), 0);
  EXPECT_NEAR(r.scores[0][0].item<float>(), 1.4f, 1e-6);
  EXPECT_NEAR(r.scores[0][1].item<float>(), 1.1f, 1e-6);
  // top_k 2: only the first two columns are verified and re-ordered
  o.top_k = 2;
  o.score = "inliers";
  r = local::rerank(ids, global, qs, cs, o);
  EXPECT_TRUE(torch::equal(r.ids, ids));
  EXPECT_EQ(r.inliers[0][2].item<int64_t>(), -1);
}

TEST(LocalFeatureFile, RoundTripAndCorruptFiles) {
  const std::string dir = util::make_temp_dir("lookalike-local-");
  const std::string path = dir + "/f.bin";
  auto g = at::make_generator<at::CPUGeneratorImpl>(9);
  std::vector<LocalFeatures> fs = {features(torch::rand({7, 2}, g), torch::randn({7, 16}, g)),
                                   features(torch::zeros({0, 2}), torch::zeros({0, 16})),
                                   features(torch::rand({3, 2}, g), torch::randn({3, 16}, g), 90)};
  local::save_local_features(path, fs, {{"method", "test"}});
  auto back = local::load_local_features(path);
  ASSERT_EQ(back.features.size(), 3u);
  EXPECT_EQ(back.meta["method"], "test");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::equal(back.features[i].keypoints, fs[i].keypoints));
    EXPECT_TRUE(torch::equal(back.features[i].descriptors, fs[i].descriptors));
    EXPECT_TRUE(torch::equal(back.features[i].strength, fs[i].strength));
    EXPECT_EQ(back.features[i].width, fs[i].width);
  }
  // truncated and bit-flipped files are FileErrors; the saved file is untouched by a failed save
  const std::string bytes = util::read_file(path);
  util::write_file_atomic(dir + "/cut.bin", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(local::load_local_features(dir + "/cut.bin"), FileError);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  util::write_file_atomic(dir + "/flip.bin", flipped);
  EXPECT_THROW(local::load_local_features(dir + "/flip.bin"), FileError);
  EXPECT_THROW(local::load_local_features(dir + "/missing.bin"), FileError);
  auto mixed = fs;
  mixed.push_back(features(torch::zeros({2, 2}), torch::zeros({2, 32}, torch::kUInt8)));
  EXPECT_THROW(local::save_local_features(path, mixed), InvalidArgument);
  EXPECT_EQ(local::load_local_features(path).features.size(), 3u);
}

TEST(LocalFeatures, BlankImagesGiveNoKeypointsAndOptionsAreChecked) {
  auto blank = torch::full({2, 3, 64, 64}, 128, torch::kUInt8);
  for (const auto& [method, width, binary] : std::vector<std::tuple<std::string, int64_t, bool>>{
           {"sift", 128, false}, {"orb", 32, true}, {"akaze", 61, true}}) {
    local::LocalOptions o;
    o.method = method;
    auto fs = local::extract_local(blank, o);
    ASSERT_EQ(fs.size(), 2u);
    EXPECT_EQ(fs[0].size(), 0) << method;
    EXPECT_EQ(fs[0].descriptors.size(1), width) << method;
    EXPECT_EQ(fs[0].binary(), binary) << method;
    EXPECT_EQ(local::match_features(fs[0], fs[1]).size(), 0);
    EXPECT_EQ(local::verify_pair(fs[0], fs[1]).inliers, 0);
  }
  local::LocalOptions o;
  o.method = "surf";
  EXPECT_THROW(local::extract_local(blank, o), InvalidArgument);
  o.method = "sift";
  o.net.backbone = "mobilenet_v2";  // applies to cnn only
  EXPECT_THROW(local::extract_local(blank, o), InvalidArgument);
  EXPECT_THROW(local::extract_local(blank.to(torch::kFloat), {}), InvalidArgument);
}

TEST(LocalFeatures, CnnCellsAreUnitDescriptorsAtTheCellCentres) {
  local::LocalOptions o;
  o.method = "cnn";
  o.net.channels = {8, 16};  // convnet: one 2x2 pooling between the stages, stride 2
  o.max_features = 0;
  auto g = at::make_generator<at::CPUGeneratorImpl>(2);
  auto images = torch::randint(0, 256, {3, 3, 32, 48}, g).to(torch::kUInt8);
  torch::manual_seed(0);  // the network's random initialisation
  auto fs = local::extract_local(images, o);
  ASSERT_EQ(fs.size(), 3u);
  const auto& f = fs[0];
  EXPECT_EQ(f.width, 48);
  EXPECT_EQ(f.height, 32);
  ASSERT_GT(f.size(), 0);
  EXPECT_LE(f.size(), 16 * 24);  // cells with a zero activation (after the ReLU) are dropped
  EXPECT_TRUE(torch::allclose(f.descriptors.norm(2, 1), torch::ones({f.size()}), 1e-5, 1e-5));
  // cell centres: x = (col + 0.5) * 2 - 0.5 = 0.5, 2.5, ..., size 2
  auto col = (f.keypoints.select(1, 0) + 0.5) / 2 - 0.5;
  EXPECT_TRUE(torch::allclose(col, col.round(), 0, 1e-5));
  EXPECT_LE(f.keypoints.select(1, 0).max().item<float>(), 47.0f);
  EXPECT_TRUE(torch::allclose(f.keypoints.select(1, 2), torch::full({f.size()}, 2.0f)));
  // the strongest 5, in descending order, are the 5 largest of all
  o.max_features = 5;
  torch::manual_seed(0);
  auto top = local::extract_local(images, o)[0];
  ASSERT_EQ(top.size(), 5);
  EXPECT_TRUE(torch::allclose(top.strength, std::get<0>(f.strength.topk(5)), 1e-6, 1e-6));
}
