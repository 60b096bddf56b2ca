// The recall study's loop (dedup::run_recall_study) on the planted catalogue: the test registers
// pipelines that return the planted candidate lists, so every pair recall is known in advance.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>

#include "lookalike/dedup/ground_truth.h"
#include "lookalike/dedup/pipeline.h"
#include "lookalike/dedup/planted.h"
#include "lookalike/dedup/recall_study.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"

using namespace lookalike;

namespace {
const dedup::PlantedSet& planted() {
  static const dedup::PlantedSet set = [] {
    dedup::PlantedOptions o;
    o.groups = 80, o.singletons = 40, o.pipelines = 2, o.depth = 8, o.seed = 11;
    return dedup::planted_listings(o);
  }();
  return set;
}

// Pipeline p of the planted set: its lists as candidates, nothing to fit.
template <int P>
class PlantedPipeline final : public dedup::CandidatePipeline {
 public:
  void fit(const dedup::Listings&, const torch::Tensor&, const torch::Tensor&) override {}
  std::pair<torch::Tensor, torch::Tensor> candidates(int64_t n) const override {
    return {planted().candidates[P].slice(1, 0, n), planted().scores[P].slice(1, 0, n)};
  }
};
}  // namespace

namespace lookalike::dedup::detail {
LOOKALIKE_REGISTER(pipeline_registry(), "test_planted0",
                   [](const nlohmann::json&) -> std::unique_ptr<CandidatePipeline> {
                     return std::make_unique<PlantedPipeline<0>>();
                   })
LOOKALIKE_REGISTER(pipeline_registry(), "test_planted1",
                   [](const nlohmann::json&) -> std::unique_ptr<CandidatePipeline> {
                     return std::make_unique<PlantedPipeline<1>>();
                   })
}  // namespace lookalike::dedup::detail

namespace {
dedup::RecallStudyOptions study_options() {
  dedup::RecallStudyOptions o;
  o.seed = 3;
  o.ns = {1, 4, 8};
  o.pipelines = {"test_planted0", "test_planted1"};
  o.baseline = "test_planted0";
  o.matcher.enabled = false;
  o.clustering.enabled = false;
  o.report.histogram_features = {"title_jaccard", "score_test_planted1"};
  return o;
}
}  // namespace

TEST(RecallStudy, PairRecallEqualsThePlantedAnswer) {
  const auto& set = planted();
  const auto o = study_options();
  auto r = dedup::run_recall_study(set.listings, set.groups, o, nlohmann::json::object());
  // The queries: the test groups' rows with a duplicate (the documented split).
  auto test_rows = dedup::split_groups(set.groups, o.split.test_fraction, o.seed).second;
  auto queries = dedup::query_rows(set.groups, test_rows, 0, o.seed);
  std::set<int64_t> is_query;
  for (int64_t i = 0; i < queries.numel(); ++i) is_query.insert(queries[i].item<int64_t>());
  const int64_t total = dedup::true_pairs(queries, set.groups);
  EXPECT_EQ(r.report["split"]["true_pairs"].get<int64_t>(), total);
  EXPECT_EQ(r.report["split"]["queries"].get<int64_t>(), queries.numel());
  for (int p = 0; p < 2; ++p) {
    const std::string name = "test_planted" + std::to_string(p);
    for (int64_t n : o.ns) {
      int64_t found = 0;
      for (const auto& [row, dup, rank] : set.planted[p])
        found += is_query.count(row) && rank < n ? 1 : 0;
      EXPECT_DOUBLE_EQ(
          r.report["ground_truth"]["pair_recall"][name][std::to_string(n)].get<double>(),
          double(found) / double(total))
          << name << " @" << n;
      EXPECT_DOUBLE_EQ(
          r.report["metrics"]["pair_recall@" + std::to_string(n) + "_" + name].get<double>(),
          double(found) / double(total));
    }
  }
  // Pairs found by one pipeline alone: counted, with panels of the chosen features only.
  const auto only0 = r.report["only_found_by"]["test_planted0"].get<int64_t>();
  EXPECT_EQ(r.report["ground_truth"]["venn"]["test_planted0"].get<int64_t>(), only0);
  ASSERT_TRUE(r.panels.contains("only test_planted1"));
  EXPECT_EQ(r.panels["only test_planted1"].size(), 2u);
  EXPECT_EQ(r.panels["only test_planted1"]["title_jaccard"].size(),
            r.report["only_found_by"]["test_planted1"].get<size_t>());
  EXPECT_LE(r.report["gallery"]["test_planted0"].size(), 6u);
  EXPECT_EQ(r.timings.count("test_planted0_s"), 1u);
}

TEST(RecallStudy, ASavedMatcherJudgesAsTheFittedOne) {
  const auto& set = planted();
  auto o = study_options();
  o.matcher.enabled = true;
  o.clustering.enabled = true;  // no embeddings: clustering by the matcher only
  o.clustering.matcher_n = 4;
  const auto dir = util::make_temp_dir("lookalike_study");
  const auto path = util::join_path(dir, "matcher.json");
  auto fitted = dedup::run_recall_study(set.listings, set.groups, o, {}, path);
  ASSERT_TRUE(util::file_exists(path));
  o.matcher.from = path;
  auto loaded = dedup::run_recall_study(set.listings, set.groups, o, {});
  EXPECT_EQ(loaded.report["by_matcher"], fitted.report["by_matcher"]);
  EXPECT_EQ(loaded.report["matcher"]["loaded_from"].get<std::string>(), path);
  EXPECT_EQ(loaded.report["matcher"]["precision"], fitted.report["matcher"]["precision"]);
  EXPECT_FALSE(fitted.report.contains("clustering"));
  const auto& mc = fitted.report["matcher_clustering"];
  EXPECT_LE(mc["pairs_accepted"].get<int64_t>(), mc["pairs_judged"].get<int64_t>());
  EXPECT_TRUE(fitted.report["metrics"].contains("matcher_cluster_test_mean_f1"));
  // Without groups the loaded matcher judges any listings' candidates.
  auto blind = dedup::run_recall_study(set.listings, {}, o, {});
  EXPECT_FALSE(blind.report["ground_truth_available"].get<bool>());
  EXPECT_TRUE(blind.report["metrics"].contains("matched@8_union"));
}

TEST(RecallStudy, BadOptionsAreErrors) {
  const auto& set = planted();
  auto expect_error = [&](dedup::RecallStudyOptions o, const torch::Tensor& groups,
                          const std::string& text) {
    try {
      dedup::run_recall_study(set.listings, groups, o, {});
      FAIL() << "expected an error about " << text;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  auto o = study_options();
  o.pipelines = {"test_planted0", "sift"};
  expect_error(o, set.groups, "unknown pipeline 'sift'");
  o = study_options();
  o.baseline = "bm25";
  expect_error(o, set.groups, "baseline 'bm25' is not among the pipelines");
  o = study_options();
  o.ns = {1, 100000};
  expect_error(o, set.groups, "must be below the number of listings");
  o = study_options();
  expect_error(o, {}, "has no duplicate groups");
  o.pipelines = {};
  expect_error(o, set.groups, "pipelines: name at least one");
}
