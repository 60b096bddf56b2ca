#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "lookalike/error.h"
#include "lookalike/eval/accuracy.h"
#include "lookalike/eval/retrieval.h"
#include "lookalike/index/knn.h"

using namespace lookalike;

namespace {
// Five unit vectors at these angles (degrees); labels 0, 0, 1, 1, 1. Hand-computed metrics of
// the set against itself (see the derivation in tests/python/test_eval.py).
torch::Tensor circle_points() {
  const double deg[] = {0, 15, 52, 90, 100};
  auto x = torch::empty({5, 2});
  for (int i = 0; i < 5; ++i) {
    x[i][0] = std::cos(deg[i] * M_PI / 180);
    x[i][1] = std::sin(deg[i] * M_PI / 180);
  }
  return x;
}
}  // namespace

TEST(Retrieval, HandComputedCase) {
  auto x = circle_points();
  auto y = torch::tensor({0, 0, 1, 1, 1}, torch::kLong);
  for (const std::string backend : {"fused", "torch", index::have_faiss() ? "faiss" : "torch"}) {
    eval::RetrievalOptions o;
    o.ks = {1, 2};
    o.backend = backend;
    auto m = eval::retrieval_metrics(x, y, {}, {}, o);
    EXPECT_NEAR(m["precision_at_1"], 0.8, 1e-12) << backend;
    EXPECT_NEAR(m["recall_at_1"], 0.8, 1e-12);
    EXPECT_NEAR(m["recall_at_2"], 1.0, 1e-12);
    EXPECT_NEAR(m["r_precision"], 0.9, 1e-12);
    EXPECT_NEAR(m["map_at_r"], 0.85, 1e-12);
    EXPECT_EQ(m["num_queries"], 5);
  }
}

TEST(Retrieval, MetricsChosenByNameGiveTheirOwnKeysAndValues) {
  auto x = circle_points();
  auto y = torch::tensor({0, 0, 1, 1, 1}, torch::kLong);
  eval::RetrievalOptions o;
  o.metrics = {"map_at_r"};
  auto m = eval::retrieval_metrics(x, y, {}, {}, o);
  EXPECT_EQ(m.size(), 3u);  // map_at_r, num_queries, num_excluded
  EXPECT_NEAR(m.at("map_at_r"), 0.85, 1e-12);
  o.metrics = {"r_precision", "precision_at_1"};
  m = eval::retrieval_metrics(x, y, {}, {}, o);
  EXPECT_NEAR(m.at("r_precision"), 0.9, 1e-12);
  EXPECT_NEAR(m.at("precision_at_1"), 0.8, 1e-12);
  EXPECT_EQ(m.count("recall_at_1"), 0u);
  o.metrics = {"r_precision", "r_precision"};
  EXPECT_THROW(eval::retrieval_metrics(x, y, {}, {}, o), InvalidArgument);
  o.metrics = {"ndcg_at_k"};
  EXPECT_THROW(eval::retrieval_metrics(x, y, {}, {}, o), InvalidArgument);
  o.metrics = {};
  EXPECT_THROW(eval::retrieval_metrics(x, y, {}, {}, o), InvalidArgument);
}

TEST(Retrieval, SeparateReferenceExcludesQueriesWithoutMatches) {
  auto x = circle_points();
  auto q = x.slice(0, 0, 2);
  auto ql = torch::tensor({0, 7}, torch::kLong);  // label 7 has no reference
  auto r = x.slice(0, 1, 5);
  auto rl = torch::tensor({0, 1, 1, 1}, torch::kLong);
  eval::RetrievalOptions o;
  o.ks = {1};
  auto m = eval::retrieval_metrics(q, ql, r, rl, o);
  EXPECT_EQ(m["num_queries"], 1);
  EXPECT_EQ(m["num_excluded"], 1);
  EXPECT_NEAR(m["precision_at_1"], 1.0, 1e-12);  // query 0 finds the 15-degree point first
}

TEST(Retrieval, BadInput) {
  auto x = circle_points();
  auto y = torch::tensor({0, 0, 1, 1, 1}, torch::kLong);
  eval::RetrievalOptions o;
  o.ks = {5};  // only 4 candidates besides the query itself
  EXPECT_THROW(eval::retrieval_metrics(x, y, {}, {}, o), InvalidArgument);
  o.ks = {1};
  auto bad = x.clone();
  bad[2][0] = NAN;
  EXPECT_THROW(eval::retrieval_metrics(bad, y, {}, {}, o), InvalidArgument);
  EXPECT_THROW(eval::retrieval_metrics(x, y.slice(0, 0, 4), {}, {}, o), InvalidArgument);
  EXPECT_THROW(eval::retrieval_metrics(x.to(torch::kDouble), y, {}, {}, o), InvalidArgument);
}

TEST(Knn, BackendsAgreeWithBruteForce) {
  torch::manual_seed(3);
  auto q = torch::randn({300, 16});
  auto r = torch::randn({1000, 16});
  for (const std::string metric : {"ip", "l2"}) {
    auto full = metric == "ip" ? torch::mm(q, r.t()) : -torch::cdist(q, r).pow(2);
    auto expected = std::get<1>(full.topk(10, 1));
    index::KnnOptions o;
    o.metric = metric;
    o.query_tile = 64;
    o.reference_tile = 128;  // forces the merge across reference tiles
    o.backend = "torch";
    auto got = index::exact_knn(q, r, 10, o);
    EXPECT_TRUE(torch::equal(got.indices, expected)) << metric;
    // The fused engine with tiles that do not divide the sizes (partial query and reference tiles).
    auto fused = index::fused_knn(q, r, 10, metric, false, 7, 100);
    EXPECT_TRUE(torch::equal(fused.indices, expected)) << metric;
    EXPECT_TRUE(torch::allclose(fused.scores, got.scores, 1e-4, 1e-3)) << metric;
    // k = nb: every reference once per row, in order of the exact scores (up to float noise of
    // a differently blocked GEMM).
    auto all = index::fused_knn(q, r, 1000, metric, false, 64, 333);
    EXPECT_TRUE(
        torch::equal(std::get<0>(all.indices.sort(1)), torch::arange(1000).expand({300, 1000})));
    auto ranked = full.gather(1, all.indices);
    EXPECT_TRUE((ranked.slice(1, 0, 999) - ranked.slice(1, 1, 1000)).ge(-1e-4).all().item<bool>())
        << metric;
    if (index::have_faiss()) {
      o.backend = "faiss";
      auto f = index::exact_knn(q, r, 10, o);
      EXPECT_TRUE(torch::equal(f.indices, expected)) << metric;
      EXPECT_TRUE(torch::allclose(f.scores, got.scores, 1e-3, 1e-3)) << metric;
    }
  }
}

TEST(Knn, ExcludeSelf) {
  torch::manual_seed(4);
  auto x = torch::randn({200, 8});
  index::KnnOptions o;
  o.exclude_self = true;
  o.query_tile = 50;
  o.reference_tile = 64;
  for (const std::string backend : {"fused", "torch", index::have_faiss() ? "faiss" : "torch"}) {
    o.backend = backend;
    auto res = index::exact_knn(x, x, 199, o);
    auto ids = torch::arange(200, torch::kLong).unsqueeze(1);
    EXPECT_FALSE(res.indices.eq(ids).any().item<bool>()) << backend;
    // Every other point appears exactly once per row.
    EXPECT_TRUE(torch::equal(std::get<0>(res.indices.sort(1)).sum(1),
                             ids.squeeze(1).neg().add(199 * 200 / 2)));
  }
  EXPECT_THROW(index::exact_knn(x, x, 200, o), InvalidArgument);
}

TEST(Knn, BadInput) {
  auto a = torch::randn({4, 3});
  EXPECT_THROW(index::exact_knn(a, torch::randn({4, 5}), 1), InvalidArgument);
  EXPECT_THROW(index::exact_knn(a, a, 0), InvalidArgument);
  EXPECT_THROW(index::exact_knn(a, a, 5), InvalidArgument);
  EXPECT_THROW(index::exact_knn(a, torch::empty({0, 3}), 1), InvalidArgument);
  index::KnnOptions o;
  o.metric = "cosine";
  EXPECT_THROW(index::exact_knn(a, a, 1, o), InvalidArgument);
  o.metric = "ip";
  o.backend = "annoy";
  EXPECT_THROW(index::exact_knn(a, a, 1, o), InvalidArgument);
}

TEST(Knn, CudaTorchBackendMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(5);
  auto q = torch::randn({500, 32});
  auto r = torch::randn({3000, 32});
  index::KnnOptions o;
  o.backend = "torch";
  o.reference_tile = 1024;
  for (const std::string metric : {"ip", "l2"}) {
    o.metric = metric;
    auto cpu = index::exact_knn(q, r, 20, o);
    auto gpu = index::exact_knn(q.cuda(), r.cuda(), 20, o);
    EXPECT_TRUE(gpu.indices.device().is_cpu());
    // TF32 or reordered sums may swap near-ties: compare scores, and indices where gaps are clear.
    EXPECT_TRUE(torch::allclose(cpu.scores, gpu.scores, 1e-3, 1e-2)) << metric;
    EXPECT_GT(cpu.indices.eq(gpu.indices).to(torch::kFloat).mean().item<float>(), 0.99) << metric;
  }
  auto y = torch::randint(0, 10, {500}, torch::kLong);
  eval::RetrievalOptions ro;
  ro.backend = "torch";
  auto mc = eval::retrieval_metrics(q, y, {}, {}, ro);
  auto mg = eval::retrieval_metrics(q.cuda(), y.cuda(), {}, {}, ro);
  EXPECT_NEAR(mc["map_at_r"], mg["map_at_r"], 1e-3);
}

TEST(Knn, TwoStageTopkEqualsOneStage) {
  torch::manual_seed(9);
  auto q = torch::randn({300, 16});
  auto r = torch::randn({5000, 16});
  index::KnnOptions o;
  o.backend = "torch";
  o.reference_tile = 2100;  // tiles of 2100 with chunks of 256: a remainder in every tile
  for (const bool self : {false, true}) {
    for (int64_t k : {1, 10, 50}) {
      o.exclude_self = self;
      o.topk_chunk = 0;
      auto one =
          index::exact_knn(self ? r.slice(0, 0, 300) : q, self ? r.slice(0, 0, 300) : r, k, o);
      o.topk_chunk = 256;
      auto two =
          index::exact_knn(self ? r.slice(0, 0, 300) : q, self ? r.slice(0, 0, 300) : r, k, o);
      EXPECT_TRUE(torch::equal(one.indices, two.indices)) << k << " self " << self;
      EXPECT_TRUE(torch::equal(one.scores, two.scores)) << k;
    }
  }
}

TEST(Accuracy, ArgmaxAgainstLabelsByHand) {
  auto scores = torch::tensor({0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.2, 0.6}).view({3, 3});
  EXPECT_DOUBLE_EQ(eval::accuracy(scores, torch::tensor({1, 0, 1}, torch::kLong)), 2.0 / 3.0);
  EXPECT_THROW(eval::accuracy(scores, torch::tensor({1, 0, 3}, torch::kLong)), InvalidArgument);
  EXPECT_THROW(eval::accuracy(scores, torch::tensor({1, 0}, torch::kLong)), InvalidArgument);
}
