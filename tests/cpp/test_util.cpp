#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "lookalike/error.h"
#include "lookalike/util/cpu_cache.h"
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

TEST(CpuCache, SizeClassesByHand) {
  EXPECT_EQ(util::cpu_cache_size_class(1000), 0u);  // small: not cached
  EXPECT_EQ(util::cpu_cache_size_class((1u << 20) - 1), 0u);
  EXPECT_EQ(util::cpu_cache_size_class(1u << 20), 1u << 20);        // 1 MiB: exact
  EXPECT_EQ(util::cpu_cache_size_class((1u << 20) + 1), 1179648u);  // + 1/8 MiB
  EXPECT_EQ(util::cpu_cache_size_class(3u << 20), 3u << 20);        // multiple of 256 KiB
  EXPECT_EQ(util::cpu_cache_size_class((3u << 20) + 5), (3u << 20) + (256u << 10));
  for (size_t n : {size_t(1) << 20, size_t(5000000), size_t(123456789)}) {
    const size_t c = util::cpu_cache_size_class(n);
    EXPECT_GE(c, n);
    EXPECT_LE(double(c), 1.125 * double(n));  // at most 12.5 % more
  }
}

TEST(CpuCache, ReusesBlocksInsideAScopeOnlyAndFreesThemAfter) {
  const int64_t floats = 2 << 20;  // 8 MiB
  const auto before = util::cpu_cache_stats();
  {
    auto a = torch::empty({floats});  // outside any scope: not ours
    a.fill_(1);
  }
  EXPECT_EQ(util::cpu_cache_stats().hits, before.hits);
  EXPECT_EQ(util::cpu_cache_stats().misses, before.misses);
  {
    util::CpuCacheScope scope;
    void* first = nullptr;
    {
      auto a = torch::empty({floats});
      first = a.data_ptr();
      a.fill_(2);
    }
    EXPECT_EQ(util::cpu_cache_stats().cached_bytes, floats * 4);
    auto b = torch::empty({floats - 7});  // same size class: the same block again
    EXPECT_EQ(b.data_ptr(), first);
    EXPECT_EQ(util::cpu_cache_stats().hits, before.hits + 1);
    EXPECT_EQ(util::cpu_cache_stats().cached_bytes, 0);
    auto c = torch::ones({floats});  // another block while b lives
    EXPECT_NE(c.data_ptr(), first);
    EXPECT_EQ(c.sum().item<double>(), double(floats));
    // raw_allocate / raw_deallocate (used by some kernels) go through the same allocator.
    auto* alloc = c10::GetCPUAllocator();
    void* raw = alloc->raw_allocate(3 << 20);
    static_cast<char*>(raw)[0] = 1;
    alloc->raw_deallocate(raw);
    void* small = alloc->raw_allocate(100);
    alloc->raw_deallocate(small);
  }
  EXPECT_EQ(util::cpu_cache_stats().cached_bytes, 0);  // freed when the last scope ended
  const bool was = util::set_cpu_cache(false);
  {
    util::CpuCacheScope scope;
    const auto off = util::cpu_cache_stats();
    { auto a = torch::empty({floats}); }
    auto b = torch::empty({floats});
    EXPECT_EQ(util::cpu_cache_stats().hits, off.hits);  // off: nothing served from a cache
    EXPECT_EQ(util::cpu_cache_stats().cached_bytes, 0);
  }
  util::set_cpu_cache(was);
}
