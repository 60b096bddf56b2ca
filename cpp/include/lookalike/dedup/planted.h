#pragma once
// A seeded catalogue with planted duplicates and planted candidate lists, whose answers are known
// before any pipeline runs: which true pairs each pipeline finds and at which rank. Tests of the
// duplicate study check recall, overlaps and Venn regions against it; it is also a quick
// synthetic catalogue for trying the study's code.
#include <array>
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "lookalike/dedup/listings.h"
#include "lookalike/util/options.h"

namespace lookalike::dedup {

struct PlantedOptions {
  int64_t groups = 200;  // duplicate groups, each of 2 .. max_group_size listings
  int max_group_size = 4;
  int64_t singletons = 100;  // listings without a duplicate
  int pipelines = 3;         // planted candidate lists, one per pipeline
  int64_t depth = 10;        // candidates per listing and pipeline
  double find_rate = 0.6;    // chance that a pipeline lists a given true duplicate of a row
  uint64_t seed = 0;
};
LOOKALIKE_OPTIONS(PlantedOptions, groups, max_group_size, singletons, pipelines, depth, find_rate,
                  seed)

/// The planted catalogue. Rows of group g come first (ids "g<g>-<k>", titles "brand<g % 5>
/// item <g> model<g>x<k>"), then the singletons ("s<i>"). candidates[p][r] lists row r's
/// candidates for pipeline p best first (never r itself; -1 where fewer), scores decreasing;
/// planted[p] holds (row, duplicate, rank) for every true duplicate pipeline p lists.
struct PlantedSet {
  Listings listings;
  torch::Tensor groups;                                      // int64 [N]
  std::vector<torch::Tensor> candidates;                     // [p] int64 [N, depth]
  std::vector<torch::Tensor> scores;                         // [p] float32 [N, depth]
  std::vector<std::vector<std::array<int64_t, 3>>> planted;  // [p] (row, duplicate, rank)
};
PlantedSet planted_listings(const PlantedOptions& options = {});

}  // namespace lookalike::dedup
