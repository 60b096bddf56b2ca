#include "lookalike/dedup/ground_truth.h"

#include <torch/torch.h>

#include <unordered_map>
#include <vector>

#include "lookalike/data/split.h"

#include "checks.h"
#include "lookalike/error.h"

namespace lookalike::dedup {

using detail::check_long;

torch::Tensor same_group(const torch::Tensor& query_rows, const torch::Tensor& ids,
                         const torch::Tensor& groups) {
  check_long(query_rows, 1, "same_group: query_rows");
  check_long(ids, 2, "same_group: ids");
  check_long(groups, 1, "same_group: groups");
  LOOKALIKE_CHECK_ARG(ids.size(0) == query_rows.size(0), "same_group: ", ids.size(0),
                      " candidate rows for ", query_rows.size(0), " queries");
  const int64_t n = groups.size(0), q = ids.size(0), k = ids.size(1);
  auto out = torch::zeros({q, k}, torch::kBool);
  auto g = groups.contiguous();
  auto qr = query_rows.contiguous();
  auto ic = ids.contiguous();
  const int64_t *gp = g.data_ptr<int64_t>(), *qp = qr.data_ptr<int64_t>(),
                *ip = ic.data_ptr<int64_t>();
  bool* op = out.data_ptr<bool>();
  for (int64_t i = 0; i < q; ++i) {
    LOOKALIKE_CHECK_ARG(qp[i] >= 0 && qp[i] < n, "same_group: query row ", qp[i], " outside [0, ",
                        n, ")");
    for (int64_t j = 0; j < k; ++j) {
      const int64_t c = ip[i * k + j];
      LOOKALIKE_CHECK_ARG(c >= -1 && c < n, "same_group: candidate ", c, " outside [-1, ", n, ")");
      op[i * k + j] = c >= 0 && c != qp[i] && gp[c] == gp[qp[i]];
    }
  }
  return out;
}

int64_t true_pairs(const torch::Tensor& query_rows, const torch::Tensor& groups) {
  check_long(query_rows, 1, "true_pairs: query_rows");
  check_long(groups, 1, "true_pairs: groups");
  std::unordered_map<int64_t, int64_t> size;
  auto g = groups.contiguous();
  const int64_t* gp = g.data_ptr<int64_t>();
  for (int64_t i = 0; i < g.size(0); ++i) ++size[gp[i]];
  int64_t total = 0;
  auto qr = query_rows.contiguous();
  for (int64_t i = 0; i < qr.size(0); ++i) {
    const int64_t r = qr.data_ptr<int64_t>()[i];
    LOOKALIKE_CHECK_ARG(r >= 0 && r < g.size(0), "true_pairs: query row ", r, " outside [0, ",
                        g.size(0), ")");
    total += size[gp[r]] - 1;
  }
  return total;
}

GroupSizes group_sizes(const torch::Tensor& groups) {
  check_long(groups, 1, "group_sizes: groups");
  LOOKALIKE_CHECK_ARG(groups.numel() > 0 && groups.min().item<int64_t>() >= 0,
                      "group_sizes: labels must be >= 0 (and at least one row)");
  auto sizes = torch::bincount(groups);
  sizes = sizes.masked_select(sizes.gt(0));
  auto dup = sizes.masked_select(sizes.gt(1));
  GroupSizes out;
  out.groups = sizes.numel();
  out.groups_with_duplicates = dup.numel();
  out.items_with_duplicates = dup.sum().item<int64_t>();
  out.largest_group = sizes.max().item<int64_t>();
  return out;
}

torch::Tensor pair_labels(const torch::Tensor& pairs, const torch::Tensor& groups) {
  check_long(pairs, 2, "pair_labels: pairs");
  check_long(groups, 1, "pair_labels: groups");
  LOOKALIKE_CHECK_ARG(pairs.size(1) == 2, "pair_labels: pairs must be [m, 2], got ", pairs.sizes());
  const int64_t n = groups.size(0);
  LOOKALIKE_CHECK_ARG(
      pairs.numel() == 0 || (pairs.min().item<int64_t>() >= 0 && pairs.max().item<int64_t>() < n),
      "pair_labels: rows outside [0, ", n, ")");
  return groups.index_select(0, pairs.select(1, 0)).eq(groups.index_select(0, pairs.select(1, 1)));
}

std::pair<torch::Tensor, torch::Tensor> split_groups(const torch::Tensor& groups, double fraction,
                                                     uint64_t seed) {
  check_long(groups, 1, "split_groups: groups");
  LOOKALIKE_CHECK_ARG(fraction > 0 && fraction < 1,
                      "split_groups: fraction must be in (0, 1), got ", fraction);
  auto [uniq, inverse, counts] = at::_unique2(groups, /*sorted=*/true, /*return_inverse=*/true);
  const int64_t g = uniq.numel();
  auto held = data::random_split(g, fraction, seed).first;
  auto is_held = torch::zeros({g}, torch::kBool);
  is_held.index_fill_(0, held, true);
  auto row_held = is_held.index_select(0, inverse.view({-1}));
  auto rows = torch::arange(groups.size(0), torch::kLong);
  return {rows.masked_select(row_held.logical_not()), rows.masked_select(row_held)};
}

torch::Tensor query_rows(const torch::Tensor& groups, const torch::Tensor& rows, int64_t count,
                         uint64_t seed) {
  check_long(groups, 1, "query_rows: groups");
  check_long(rows, 1, "query_rows: rows");
  LOOKALIKE_CHECK_ARG(groups.numel() == 0 || groups.min().item<int64_t>() >= 0,
                      "query_rows: group labels must be >= 0");
  auto sizes = torch::bincount(groups);
  auto eligible = rows.masked_select(sizes.index_select(0, groups.index_select(0, rows)).gt(1));
  LOOKALIKE_CHECK_ARG(eligible.numel() > 0,
                      "no test listing has a duplicate: the study needs groups of two or more "
                      "listings");
  if (count <= 0 || count >= eligible.numel()) return eligible;
  const int64_t m = eligible.numel();
  auto pick =
      data::random_split(m, static_cast<double>(count) / static_cast<double>(m), seed).first;
  return eligible.index_select(0, pick);
}

}  // namespace lookalike::dedup
