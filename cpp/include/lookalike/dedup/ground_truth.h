#pragma once
// Ground truth of the duplicate study: duplicate groups (int64 [N], one label per row), the
// split by group, the query rows, and which candidates and pairs are true duplicates.
#include <cstdint>
#include <utility>

#include <torch/types.h>

namespace lookalike::dedup {

/// How the rows fall into groups (int64 [N] labels >= 0).
struct GroupSizes {
  int64_t groups = 0, groups_with_duplicates = 0, items_with_duplicates = 0, largest_group = 0;
};
GroupSizes group_sizes(const torch::Tensor& groups);

/// bool [q, n]: candidate (query_rows[i], ids[i][j]) is a true duplicate (same group, not -1,
/// not the query itself).
torch::Tensor same_group(const torch::Tensor& query_rows, const torch::Tensor& ids,
                         const torch::Tensor& groups);

/// bool [m]: the two rows of each pair (int64 [m, 2]) share a group.
torch::Tensor pair_labels(const torch::Tensor& pairs, const torch::Tensor& groups);

/// The true pairs the queries could find: sum over queries of (size of its group - 1).
int64_t true_pairs(const torch::Tensor& query_rows, const torch::Tensor& groups);

/// (kept rows, held-out rows), int64 in row order, split by group: round(fraction x groups) of
/// the distinct groups (data::random_split over the sorted group labels, seeded) are held out,
/// so each group lies wholly on one side. fraction in (0, 1).
std::pair<torch::Tensor, torch::Tensor> split_groups(const torch::Tensor& groups, double fraction,
                                                     uint64_t seed);

/// The rows of `rows` (int64) whose group has another member, then `count` of them drawn with
/// data::random_split (0 or more than there are: all). Throws when none has a duplicate.
torch::Tensor query_rows(const torch::Tensor& groups, const torch::Tensor& rows, int64_t count,
                         uint64_t seed);

}  // namespace lookalike::dedup
