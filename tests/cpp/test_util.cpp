#include <gtest/gtest.h>

#include <set>

#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "lookalike/util/json.h"
#include "lookalike/util/rng.h"

using namespace lookalike;

TEST(Rng, PermutationIsAPermutationAndSeeded) {
  auto a = util::permutation(1000, 7);
  auto b = util::permutation(1000, 7);
  auto c = util::permutation(1000, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<int64_t> s(a.begin(), a.end());
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(*s.begin(), 0);
  EXPECT_EQ(*s.rbegin(), 999);
}

TEST(Rng, BoundedIsUniformEnough) {
  std::mt19937_64 rng(1);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 30000; ++i) ++counts[util::bounded(rng, 3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);  // ~4.5 sigma
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemp) {
  const std::string dir = util::make_temp_dir("lookalike_files_");
  const std::string path = dir + "/sub/x.json";
  util::write_file_atomic(path, "one");
  util::write_file_atomic(path, "two");
  EXPECT_EQ(util::read_file(path), "two");
  // A writer that fails leaves the old content and no temporary behind.
  EXPECT_THROW(util::write_atomic_with(path,
                                       [](const std::string& tmp) {
                                         util::write_file_atomic(tmp, "partial");
                                         throw Error("simulated failure");
                                       }),
               Error);
  EXPECT_EQ(util::read_file(path), "two");
  EXPECT_EQ(util::list_dir(dir + "/sub"), std::vector<std::string>{"x.json"});
  EXPECT_THROW(util::read_file(dir + "/missing"), FileError);
  EXPECT_EQ(util::parent_path("/a/b/c.txt"), "/a/b");
  EXPECT_EQ(util::parent_path("c.txt"), "");
}

TEST(Json, RecordsRoundTripWithNaN) {
  std::vector<util::Record> recs = {{{"epoch", 1}, {"loss", 0.5}},
                                    {{"epoch", 2}, {"loss", std::nan("")}}};
  auto back = util::from_json_lines(util::to_json_lines(recs));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].at("loss"), 0.5);
  EXPECT_TRUE(std::isnan(back[1].at("loss")));
  EXPECT_THROW(util::from_json_line("{not json"), InvalidArgument);
}
