// The duplicate study's computation against planted answers (dedup::planted_listings) and
// hand-computed cases.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "lookalike/dedup/candidates.h"
#include "lookalike/dedup/cluster_scores.h"
#include "lookalike/dedup/comparison.h"
#include "lookalike/dedup/ground_truth.h"
#include "lookalike/dedup/matcher.h"
#include "lookalike/dedup/planted.h"
#include "lookalike/dedup/relist.h"
#include "lookalike/error.h"
#include "lookalike/eval/prf.h"
#include "lookalike/index/drop_self.h"
#include "lookalike/util/files.h"

using namespace lookalike;
using Pair = std::pair<int64_t, int64_t>;

namespace {
dedup::PlantedOptions small() {
  dedup::PlantedOptions o;
  o.groups = 60, o.singletons = 30, o.pipelines = 3, o.depth = 8, o.seed = 5;
  return o;
}

std::vector<int64_t> values(const torch::Tensor& t) {
  auto c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}
}  // namespace

TEST(Planted, ListsHoldExactlyThePlantedDuplicates) {
  auto set = dedup::planted_listings(small());
  const int64_t n = set.groups.numel();
  ASSERT_EQ(set.listings.size(), n);
  for (size_t p = 0; p < set.candidates.size(); ++p) {
    auto truth = dedup::same_group(torch::arange(n), set.candidates[p], set.groups);
    EXPECT_EQ(truth.sum().item<int64_t>(), static_cast<int64_t>(set.planted[p].size()));
    for (const auto& [r, c, rank] : set.planted[p]) {
      EXPECT_EQ(set.candidates[p][r][rank].item<int64_t>(), c);
      EXPECT_TRUE(truth[r][rank].item<bool>());
    }
    // Never the row itself, never a repeat.
    for (int64_t r = 0; r < n; ++r) {
      auto row = values(set.candidates[p][r]);
      EXPECT_EQ(std::count(row.begin(), row.end(), r), 0);
      EXPECT_EQ(std::set<int64_t>(row.begin(), row.end()).size(), row.size());
    }
  }
}

TEST(Planted, ComparisonAndSummaryMatchThePlantedAnswer) {
  auto set = dedup::planted_listings(small());
  const std::vector<int64_t> ns = {1, 3, 8};
  auto queries = dedup::query_rows(set.groups, torch::arange(set.groups.numel()), 0, 0);
  // Every row of a group is a query; the singletons are not.
  EXPECT_EQ(queries.numel(), set.groups.numel() - 30);
  std::vector<torch::Tensor> cands, positive;
  for (const auto& c : set.candidates) {
    cands.push_back(c.index_select(0, queries));
    positive.push_back(dedup::same_group(queries, cands.back(), set.groups));
  }
  auto cmp = dedup::compare_pipelines(cands, positive, queries, ns);
  // Expected, from the planted (row, duplicate, rank) records alone.
  std::vector<std::map<int64_t, std::set<Pair>>> at(3);  // [p][n] -> pairs within the top n
  for (size_t p = 0; p < 3; ++p)
    for (const auto& [r, c, rank] : set.planted[p])
      for (int64_t n : ns)
        if (rank < n) at[p][n].insert({r, c});
  for (size_t t = 0; t < ns.size(); ++t) {
    std::set<Pair> all;
    for (size_t p = 0; p < 3; ++p) {
      EXPECT_EQ(cmp.found[p][t], static_cast<int64_t>(at[p][ns[t]].size()));
      all.insert(at[p][ns[t]].begin(), at[p][ns[t]].end());
    }
    EXPECT_EQ(cmp.union_found[t], static_cast<int64_t>(all.size()));
  }
  std::map<int, int64_t> venn;
  std::map<Pair, int> mask;
  for (size_t p = 0; p < 3; ++p)
    for (const auto& pr : at[p][8]) mask[pr] |= 1 << p;
  for (const auto& [pr, m] : mask) ++venn[m];
  for (int m = 1; m < 8; ++m) EXPECT_EQ(cmp.venn[m], venn[m]) << "region " << m;
  for (size_t a = 0; a < 3; ++a)
    for (size_t b = 0; b < 3; ++b) {
      int64_t both = 0;
      for (const auto& pr : at[a][8]) both += at[b][8].count(pr);
      EXPECT_EQ(cmp.overlap[a][b], both);
    }
  EXPECT_EQ(cmp.only[0].size(0), venn[1]);
  // Pair recall = found / true pairs; the true pairs: each query's group size - 1.
  int64_t true_pairs = 0;
  auto sizes = torch::bincount(set.groups);
  for (int64_t q : values(queries))
    true_pairs += sizes[set.groups[q].item<int64_t>()].item<int64_t>() - 1;
  EXPECT_EQ(dedup::true_pairs(queries, set.groups), true_pairs);
  auto s = dedup::summarise(cmp, {"a", "b", "c"}, true_pairs, "a");
  EXPECT_DOUBLE_EQ(s["pair_recall"]["b"]["3"].get<double>(), double(at[1][3].size()) / true_pairs);
  EXPECT_DOUBLE_EQ(s["pair_recall"]["union"]["8"].get<double>(), double(mask.size()) / true_pairs);
  EXPECT_DOUBLE_EQ(s["gain_over_a"]["c"]["1"].get<double>(),
                   double(at[2][1].size()) / true_pairs - double(at[0][1].size()) / true_pairs);
  EXPECT_EQ(s["venn"]["a&b&c"].get<int64_t>(), venn[7]);
  EXPECT_FALSE(s.contains("gain_over_z"));
  // Without true pairs (matcher judgements): counts, gains in pairs, no recall.
  auto counts = dedup::summarise(cmp, {"a", "b", "c"}, 0, "a");
  EXPECT_FALSE(counts.contains("pair_recall"));
  EXPECT_EQ(counts["gain_over_a"]["b"]["8"].get<int64_t>(),
            int64_t(at[1][8].size()) - int64_t(at[0][8].size()));
}

TEST(GroundTruth, SplitKeepsGroupsWholeAndQueriesNeedADuplicate) {
  auto set = dedup::planted_listings(small());
  auto [train, test] = dedup::split_groups(set.groups, 0.5, 3);
  EXPECT_EQ(train.numel() + test.numel(), set.groups.numel());
  auto tr = values(set.groups.index_select(0, train)),
       te = values(set.groups.index_select(0, test));
  std::set<int64_t> a(tr.begin(), tr.end()), b(te.begin(), te.end());
  for (int64_t g : a) EXPECT_EQ(b.count(g), 0u);
  EXPECT_EQ(b.size(), 45u);  // round(0.5 x 90 groups, singletons included)
  auto gs = dedup::group_sizes(set.groups);
  EXPECT_EQ(gs.groups, 90);
  EXPECT_EQ(gs.groups_with_duplicates, 60);
  EXPECT_EQ(gs.items_with_duplicates, set.groups.numel() - 30);
  auto q = dedup::query_rows(set.groups, test, 10, 1);
  EXPECT_EQ(q.numel(), 10);
  EXPECT_THROW(dedup::query_rows(set.groups,
                                 torch::arange(set.groups.numel() - 30, set.groups.numel()), 0, 0),
               InvalidArgument);
}

TEST(Candidates, PairsAreTheUniqueEntriesOfTheLists) {
  auto a = torch::tensor({{1, 2, -1}, {0, 2, 3}, {3, 0, 1}, {2, 1, 0}}, torch::kLong);
  auto b = torch::tensor({{2, 3, 1}, {3, 0, 2}, {0, 1, 3}, {0, 1, 2}}, torch::kLong);
  auto rows = torch::tensor({0, 2}, torch::kLong);
  auto pairs = dedup::candidate_pairs(rows, {a, b}, 2);
  EXPECT_EQ(values(pairs.flatten()), (std::vector<int64_t>{0, 1, 0, 2, 0, 3, 2, 0, 2, 1, 2, 3}));
  auto in = dedup::pairs_in(rows, a, torch::tensor({{0, 2}, {2, 1}}, torch::kLong));
  EXPECT_EQ(values(in.to(torch::kLong).flatten()), (std::vector<int64_t>{0, 1, 0, 0, 0, 1}));
  auto groups = torch::tensor({0, 0, 1, 1}, torch::kLong);
  EXPECT_EQ(values(dedup::pair_labels(pairs, groups).to(torch::kLong)),
            (std::vector<int64_t>{1, 0, 0, 0, 0, 1}));
  // drop_self: the row itself anywhere in its list, and -1 padding, are skipped.
  auto [ids, sc] = index::drop_self(torch::tensor({{5, 0, 7}, {1, -1, 4}}, torch::kLong),
                                    torch::tensor({{3.f, 2.f, 1.f}, {9.f, 8.f, 7.f}}), 2);
  EXPECT_EQ(values(ids.flatten()), (std::vector<int64_t>{5, 7, 4, -1}));
  EXPECT_FLOAT_EQ(sc[0][1].item<float>(), 1.f);
  EXPECT_FLOAT_EQ(sc[1][1].item<float>(), 0.f);
}

TEST(Prf, MatchesHandCountsAndZeroDivision) {
  auto q =
      eval::prf(torch::tensor({true, true, false, true}), torch::tensor({true, false, true, true}));
  EXPECT_DOUBLE_EQ(q.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(q.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(q.f1, 2.0 / 3);
  EXPECT_EQ(q.true_positives, 2);
  auto none = eval::prf(0, 0, 5, 1.0);
  EXPECT_DOUBLE_EQ(none.precision, 1.0);
  EXPECT_DOUBLE_EQ(none.recall, 0.0);
  EXPECT_DOUBLE_EQ(none.f1, 0.0);
}

TEST(Matcher, SavesAndLoadsWithItsFeatureNames) {
  auto x = torch::tensor({{0.1, 1.0}, {0.9, 0.2}, {0.8, 0.1}, {0.2, 0.9}, {0.7, 0.3}, {0.3, 0.8}},
                         torch::kDouble);
  auto y = torch::tensor({0, 1, 1, 0, 1, 0}, torch::kLong);
  dedup::Matcher m;
  m.fit(x, y);
  m.set_threshold(0.4);
  const std::string dir = util::make_temp_dir("lookalike_matcher");
  const std::string path = util::join_path(dir, "m.json");
  dedup::save_matcher(m, {"cos", "jaccard"}, path);
  auto [back, names] = dedup::load_matcher(path);
  EXPECT_EQ(names, (std::vector<std::string>{"cos", "jaccard"}));
  EXPECT_DOUBLE_EQ(back.threshold(), 0.4);
  EXPECT_TRUE(torch::equal(back.predict_proba(x), m.predict_proba(x)));
  EXPECT_THROW(dedup::save_matcher(m, {"one"}, path), InvalidArgument);
  util::write_file_atomic(path, "{}");
  EXPECT_THROW(dedup::load_matcher(path), FileError);
  EXPECT_THROW(dedup::load_matcher(util::join_path(dir, "missing.json")), FileError);
}

TEST(Relist, CopiesJoinTheirSourcesGroup) {
  auto set = dedup::planted_listings(small());
  dedup::RelistOptions o;
  o.originals = 5, o.min_copies = 2, o.max_copies = 2, o.seed = 1;
  auto [out, groups] = dedup::with_relistings(set.listings, o);
  const int64_t n = set.listings.size();
  ASSERT_EQ(out.size(), n + 10);
  EXPECT_EQ(values(groups.slice(0, 0, n)), values(torch::arange(n)));
  for (int64_t i = n; i < n + 10; ++i) {
    const int64_t src = groups[i].item<int64_t>();
    EXPECT_EQ(out.ids[i].rfind(set.listings.ids[src] + "~relist", 0), 0u) << out.ids[i];
  }
  o.originals = n + 1;
  EXPECT_THROW(dedup::with_relistings(set.listings, o), InvalidArgument);
}

TEST(ClusterScores, ShopeeF1ByHand) {
  auto s = dedup::cluster_scores(torch::tensor({5, 5, 6, 6, 7}, torch::kLong),
                                 torch::tensor({0, 0, 0, 1, 1}, torch::kLong));
  EXPECT_NEAR(s.mean_f1, (0.8 + 0.8 + 0.4 + 0.5 + 2.0 / 3) / 5, 1e-12);
  // Predicted pairs {01, 23}: one of them true; true pairs {01, 02, 12, 34}.
  EXPECT_DOUBLE_EQ(s.pair_precision, 0.5);
  EXPECT_DOUBLE_EQ(s.pair_recall, 0.25);
}
