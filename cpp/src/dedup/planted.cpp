#include "lookalike/dedup/planted.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

#include "lookalike/error.h"
#include "lookalike/util/rng.h"

namespace lookalike::dedup {

namespace {
void check(const PlantedOptions& o) {
  LOOKALIKE_CHECK_ARG(o.groups >= 1 && o.max_group_size >= 2 && o.singletons >= 0,
                      "planted_listings: need groups >= 1, max_group_size >= 2, singletons >= 0");
  LOOKALIKE_CHECK_ARG(o.pipelines >= 1 && o.pipelines <= 16,
                      "planted_listings: pipelines in [1, 16]");
  LOOKALIKE_CHECK_ARG(o.depth >= o.max_group_size - 1,
                      "planted_listings: depth must hold every duplicate (>= max_group_size - 1)");
  LOOKALIKE_CHECK_ARG(o.find_rate >= 0 && o.find_rate <= 1,
                      "planted_listings: find_rate in [0, 1]");
}
}  // namespace

PlantedSet planted_listings(const PlantedOptions& o) {
  check(o);
  std::mt19937_64 rng(util::mix_seed(o.seed, 501));
  PlantedSet out;
  std::vector<int64_t> group_of;
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(o.groups));
  for (int64_t g = 0; g < o.groups; ++g) {
    const int size = 2 + static_cast<int>(util::bounded(rng, uint64_t(o.max_group_size - 1)));
    for (int k = 0; k < size; ++k) {
      members[static_cast<size_t>(g)].push_back(static_cast<int64_t>(group_of.size()));
      group_of.push_back(g);
      out.listings.ids.push_back("g" + std::to_string(g) + "-" + std::to_string(k));
      out.listings.titles.push_back("brand" + std::to_string(g % 5) + " item " + std::to_string(g) +
                                    " model" + std::to_string(g) + "x" + std::to_string(k));
    }
  }
  for (int64_t i = 0; i < o.singletons; ++i) {
    group_of.push_back(o.groups + i);
    out.listings.ids.push_back("s" + std::to_string(i));
    out.listings.titles.push_back("brand" + std::to_string(i % 5) + " single " + std::to_string(i));
  }
  const int64_t n = static_cast<int64_t>(group_of.size());
  LOOKALIKE_CHECK_ARG(n > o.depth, "planted_listings: ", n, " listings for depth ", o.depth);
  out.listings.texts = out.listings.titles;
  out.listings.source = "planted (seed " + std::to_string(o.seed) + ")";
  out.groups = torch::tensor(group_of, torch::kLong);
  std::uniform_real_distribution<double> coin(0, 1);
  for (int p = 0; p < o.pipelines; ++p) {
    auto ids = torch::full({n, o.depth}, -1, torch::kLong);
    auto* ip = ids.data_ptr<int64_t>();
    std::vector<std::array<int64_t, 3>> planted;
    for (int64_t r = 0; r < n; ++r) {
      std::vector<int64_t> slots(static_cast<size_t>(o.depth));
      std::iota(slots.begin(), slots.end(), int64_t{0});
      std::shuffle(slots.begin(), slots.end(), rng);
      size_t used = 0;
      const int64_t g = group_of[static_cast<size_t>(r)];
      if (g < o.groups)
        for (int64_t c : members[static_cast<size_t>(g)]) {
          if (c == r || coin(rng) >= o.find_rate) continue;
          ip[r * o.depth + slots[used]] = c;
          planted.push_back({r, c, slots[used++]});
        }
      // The other slots: rows of other groups, distinct.
      while (used < slots.size()) {
        const int64_t c = static_cast<int64_t>(util::bounded(rng, uint64_t(n)));
        if (c == r || group_of[static_cast<size_t>(c)] == g) continue;
        bool seen = false;
        for (int64_t j = 0; j < o.depth; ++j) seen = seen || ip[r * o.depth + j] == c;
        if (!seen) ip[r * o.depth + slots[used++]] = c;
      }
    }
    out.candidates.push_back(ids);
    out.scores.push_back(
        (o.depth - torch::arange(o.depth, torch::kFloat)).expand({n, o.depth}).contiguous());
    out.planted.push_back(std::move(planted));
  }
  return out;
}

}  // namespace lookalike::dedup
