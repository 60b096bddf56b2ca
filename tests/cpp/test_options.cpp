#include <gtest/gtest.h>

#include "lookalike/dedup/bm25.h"
#include "lookalike/dedup/listings.h"
#include "lookalike/dedup/matcher.h"
#include "lookalike/dedup/relist.h"
#include "lookalike/dedup/text.h"
#include "lookalike/error.h"
#include "lookalike/eval/retrieval.h"
#include "lookalike/index/vector_index.h"
#include "lookalike/noisy/noise.h"
#include "lookalike/train/trainer.h"
#include "lookalike/util/options.h"

using namespace lookalike;
using nlohmann::json;

namespace {
// A struct of every supported field kind, declared once.
struct Inner {
  int a = 1;
  std::string s = "x";
};
struct Outer {
  bool flag = false;
  int64_t n = -3;
  uint64_t seed = 7;
  double x = 0.5;
  std::vector<int> v = {1, 2};
  Inner inner;
  torch::Tensor data;
};
LOOKALIKE_OPTIONS(Inner, a, s)
LOOKALIKE_OPTIONS(Outer, flag, n, seed, x, v, inner, data)

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Options, NamesAndJsonFollowTheOneDeclaration) {
  EXPECT_EQ(util::option_names<Outer>(),
            (std::vector<std::string>{"flag", "n", "seed", "x", "v", "inner", "data"}));
  EXPECT_EQ(util::options_name<Outer>(), "Outer");
  Outer o;
  o.data = torch::ones({2});
  // Tensors are data, not options: left out of JSON. Order is the declaration's.
  EXPECT_EQ(util::options_json(o).dump(),
            R"({"flag":false,"n":-3,"seed":7,"x":0.5,"v":[1,2],"inner":{"a":1,"s":"x"}})");
  EXPECT_EQ(util::options_flat_json(o).dump(),
            R"({"flag":false,"n":-3,"seed":7,"x":0.5,"v":[1,2],"a":1,"s":"x"})");
}

TEST(Options, FromJsonRoundTripsAndUpdatesOnlyTheNamedFields) {
  Outer o;
  util::options_from_json(json::parse(R"({"x": 2, "inner": {"s": "y"}, "v": []})"), o);
  EXPECT_EQ(o.x, 2.0);
  EXPECT_EQ(o.inner.s, "y");
  EXPECT_EQ(o.inner.a, 1);
  EXPECT_TRUE(o.v.empty());
  EXPECT_EQ(o.n, -3);
  Outer back;
  util::options_from_json(json::parse(util::options_json(o).dump()), back);
  EXPECT_EQ(util::options_json(back), util::options_json(o));
}

TEST(Options, UnknownKeysAndWrongTypesNameTheKey) {
  Outer o;
  auto e =
      error_of([&] { util::options_from_json(json::parse(R"({"inner": {"b": 1}})"), o, "cfg"); });
  EXPECT_NE(e.find("unknown option 'cfg.inner.b'"), std::string::npos) << e;
  EXPECT_NE(e.find("known: a, s"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"n": 1.5})"), o); });
  EXPECT_NE(e.find("option 'n' must be an integer, got 1.5"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"flag": 1})"), o); });
  EXPECT_NE(e.find("'flag' must be true or false"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"seed": -1})"), o); });
  EXPECT_NE(e.find("'seed' must be a non-negative integer"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"v": [1, "a"]})"), o); });
  EXPECT_NE(e.find("'v[1]' must be an integer"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"x": "1"})"), o); });
  EXPECT_NE(e.find("'x' must be a number"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"data": [1]})"), o); });
  EXPECT_NE(e.find("'data' must be a tensor"), std::string::npos) << e;
  e = error_of([&] { util::options_from_json(json::parse(R"({"inner": {"a": 3000000000}})"), o); });
  EXPECT_NE(e.find("in range"), std::string::npos) << e;
  // A failed update names the problem; the fields before it may be set, the struct stays valid.
  EXPECT_EQ(o.inner.s, "x");
}

TEST(Options, FlatFormLiftsNestedFieldsAndAcceptsTheStructAsAMapping) {
  Outer o;
  util::options_update_flat(json::parse(R"({"a": 5, "x": 1.0, "inner": {"s": "z"}})"), o);
  EXPECT_EQ(o.inner.a, 5);
  EXPECT_EQ(o.inner.s, "z");
  EXPECT_EQ(o.x, 1.0);
  auto e = error_of([&] { util::options_update_flat(json::parse(R"({"zz": 1})"), o); });
  EXPECT_NE(e.find("unknown option 'zz' (Outer); known: flag, n, seed, x, v, a, s"),
            std::string::npos)
      << e;
}

TEST(Options, EveryFlattenedStructHasUniqueFlatNames) {
  EXPECT_TRUE(util::flat_names_unique<train::TrainOptions>());
  EXPECT_TRUE(util::flat_names_unique<dedup::TextEncoderOptions>());
  EXPECT_TRUE(util::flat_names_unique<dedup::RelistOptions>());
}

TEST(Options, TrainOptionsJsonCarriesEveryFieldAndReadsBack) {
  train::TrainOptions o;
  o.lr = 0.25;
  o.model.channels = {4, 8};
  o.filter.filter = "coteaching";
  o.filter.forget_rate = 0.4;
  const auto j = json::parse(train::to_json(o));
  EXPECT_EQ(j.size(), util::option_names<train::TrainOptions>().size());
  EXPECT_EQ(j["filter"].size(), util::option_names<noisy::FilterOptions>().size());
  train::TrainOptions back;
  util::options_from_json(j, back);
  EXPECT_EQ(train::to_json(back), train::to_json(o));
  EXPECT_EQ(back.filter.forget_rate, 0.4);
  // The model options saved with a model read back through the same declaration.
  auto m = train::model_options_from_json(train::to_json(o.model));
  EXPECT_EQ(m.channels, (std::vector<int>{4, 8}));
  EXPECT_THROW(train::model_options_from_json(R"({"chanels": [1]})"), InvalidArgument);
  EXPECT_THROW(train::model_options_from_json("{"), InvalidArgument);
}

TEST(Options, DefaultsComeFromTheStructs) {
  // One place for each default: what JSON reports is what the struct initialises.
  EXPECT_EQ(util::options_json(dedup::Bm25Options()).dump(),
            R"({"k1":1.2,"b":0.75,"language":"english"})");
  EXPECT_EQ(util::options_json(dedup::MatcherOptions())["threshold"], 0.5);
  EXPECT_EQ(util::options_json(index::IndexOptions())["spec"], "Flat");
  EXPECT_EQ(util::options_json(index::ClusterOptions())["params"].dump(),
            R"({"nprobe":0,"ef_search":0})");
  EXPECT_EQ(util::option_names<noisy::NoiseOptions>().size(), 7u);
  EXPECT_EQ(util::options_json(noisy::NoiseOptions()).size(), 5u);  // two tensors left out
}
