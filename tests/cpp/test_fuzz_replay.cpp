// Every fuzz target (cpp/fuzz/) over its seed corpus (tests/fuzz/corpus/<name>/) and the inputs
// that were once findings (tests/fuzz/regressions/<name>/): each input is read or refused with
// a lookalike error naming it, never anything else (the contract of cpp/fuzz/fuzz_target.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../../cpp/fuzz/fuzz_target.h"
#include "lookalike/util/files.h"

namespace {

using lookalike::util::is_directory;
using lookalike::util::join_path;
using lookalike::util::list_dir;

std::vector<std::string> inputs(const std::string& dir) {
  std::vector<std::string> out;
  if (!is_directory(dir)) return out;
  for (const auto& name : list_dir(dir)) out.push_back(join_path(dir, name));
  std::sort(out.begin(), out.end());
  return out;
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

// Runs target `name` on each file; a Finding (or any escape) is a test failure naming the file.
void replay(const std::string& name, const std::vector<std::string>& files) {
  for (const auto& path : files) {
    const std::string bytes = lookalike::util::read_file(path);
    try {
      lookalike::fuzz::run_target(name, reinterpret_cast<const uint8_t*>(bytes.data()),
                                  bytes.size());
    } catch (const std::exception& e) {
      ADD_FAILURE() << path << ": " << e.what();
    }
  }
}

TEST_P(FuzzReplay, SeedCorpusAndRegressionsAreReadOrRefusedByName) {
  const std::string name = GetParam();
  const std::string root = join_path(LOOKALIKE_SOURCE_DIR, "tests/fuzz");
  const auto seeds = inputs(join_path(root, "corpus/" + name));
  ASSERT_FALSE(seeds.empty()) << "fuzz target '" << name << "' has no seed corpus in "
                              << join_path(root, "corpus/" + name);
  const int64_t accepted_before = lookalike::fuzz::accepted();
  replay(name, seeds);
  EXPECT_GT(lookalike::fuzz::accepted(), accepted_before)
      << "no seed of '" << name
      << "' is read without an error: its corpus stops at the first check";
  replay(name, inputs(join_path(root, "regressions/" + name)));
}

TEST(FuzzReplay, EveryTargetIsOneFileOfCppFuzz) {
  const auto names = lookalike::fuzz::targets().names();
  EXPECT_GE(names.size(), 18u);
  for (const auto& name : names)
    EXPECT_TRUE(
        lookalike::util::file_exists(join_path(LOOKALIKE_SOURCE_DIR, "cpp/fuzz/" + name + ".cpp")))
        << name;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay,
                         ::testing::ValuesIn(lookalike::fuzz::targets().names()), test_name);

}  // namespace
