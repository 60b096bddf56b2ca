// The registries: every strategy file registers itself, so the names equal the files (a file
// dropped by the linker, or one that forgot to register, shows here), and lookups fail clearly.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "lookalike/dedup/pipeline.h"
#include "lookalike/error.h"
#include "lookalike/eval/metric.h"
#include "lookalike/metric/loss.h"
#include "lookalike/metric/miner.h"
#include "lookalike/noisy/filter.h"
#include "lookalike/train/multilabel_loss.h"
#include "lookalike/util/files.h"

using namespace lookalike;

namespace {
// The .cpp stems in cpp/src/<folder>, less `skip`.
std::set<std::string> files_in(const std::string& folder, const std::string& skip = "") {
  std::set<std::string> out;
  for (const auto& name : util::list_dir(std::string(LOOKALIKE_SOURCE_DIR) + "/cpp/src/" + folder))
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".cpp") == 0 && name != skip + ".cpp")
      out.insert(name.substr(0, name.size() - 4));
  return out;
}
std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }
}  // namespace

TEST(Registry, EveryMetricFileRegistersItsName) {
  EXPECT_EQ(as_set(eval::metrics()), files_in("eval/metrics"));
  const auto names = eval::metrics();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Registry, EveryPipelineFileRegistersItsName) {
  // Less the test_ pipelines this test program registers itself (test_recall_study.cpp).
  std::set<std::string> got;
  for (const auto& name : dedup::pipelines())
    if (name.rfind("test_", 0) != 0) got.insert(name);
  EXPECT_EQ(got, files_in("dedup/pipelines"));
}

TEST(Registry, EveryFilterFileRegistersItsNames) {
  // coteaching.cpp registers coteaching and coteaching_plus.
  auto want = files_in("noisy/filters", "filter");
  want.insert("coteaching_plus");
  EXPECT_EQ(as_set(noisy::filters()), want);
}

TEST(Registry, EveryLossAndMinerFileRegistersItsName) {
  EXPECT_EQ(as_set(metric::metric_losses()), files_in("metric/losses"));
  EXPECT_EQ(as_set(train::multilabel_losses()), files_in("train/multilabel_losses"));
  EXPECT_EQ(as_set(metric::miners()), files_in("metric/miners"));
}

TEST(Registry, UnknownNamesAndRepeatsAreErrors) {
  try {
    dedup::make_pipeline("sift", nlohmann::json::object());
    FAIL() << "an unknown pipeline must throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown pipeline 'sift'; known: bm25, image"),
              std::string::npos)
        << e.what();
  }
  util::Registry<int (*)()> r("thing");
  r.add("a", [] { return 1; });
  EXPECT_THROW(r.add("a", [] { return 2; }), std::logic_error);
  EXPECT_EQ(r.get("a")(), 1);
  EXPECT_THROW(r.get("b"), InvalidArgument);
}
