#include "lookalike/dedup/cluster_scores.h"

#include <torch/torch.h>

#include <numeric>
#include <unordered_map>
#include <vector>

#include "lookalike/eval/prf.h"

#include "checks.h"
#include "lookalike/error.h"

namespace lookalike::dedup {

using detail::check_long;

ClusterScores cluster_scores(const torch::Tensor& pred, const torch::Tensor& groups,
                             const torch::Tensor& rows) {
  check_long(pred, 1, "cluster_scores: pred");
  check_long(groups, 1, "cluster_scores: groups");
  LOOKALIKE_CHECK_ARG(pred.size(0) == groups.size(0), "cluster_scores: ", pred.size(0),
                      " predicted labels for ", groups.size(0), " items");
  const int64_t n = pred.size(0);
  LOOKALIKE_CHECK_ARG(n > 0, "cluster_scores: no items");
  auto pc = pred.contiguous(), gc = groups.contiguous();
  const int64_t *p = pc.data_ptr<int64_t>(), *g = gc.data_ptr<int64_t>();
  std::unordered_map<int64_t, int64_t> psize, gsize;
  std::unordered_map<int64_t, std::unordered_map<int64_t, int64_t>> both;
  for (int64_t i = 0; i < n; ++i) ++psize[p[i]], ++gsize[g[i]], ++both[p[i]][g[i]];
  std::vector<int64_t> scored;
  if (rows.defined()) {
    check_long(rows, 1, "cluster_scores: rows");
    auto rc = rows.contiguous();
    scored.assign(rc.data_ptr<int64_t>(), rc.data_ptr<int64_t>() + rc.numel());
    for (int64_t r : scored)
      LOOKALIKE_CHECK_ARG(r >= 0 && r < n, "cluster_scores: row ", r, " outside [0, ", n, ")");
  } else {
    scored.resize(static_cast<size_t>(n));
    std::iota(scored.begin(), scored.end(), int64_t{0});
  }
  LOOKALIKE_CHECK_ARG(!scored.empty(), "cluster_scores: no rows to score");
  double f1 = 0, pp = 0, tp = 0, inter = 0;
  for (int64_t i : scored) {
    const double a = double(psize[p[i]]), b = double(gsize[g[i]]), c = double(both[p[i]][g[i]]);
    f1 += 2 * c / (a + b);
    pp += a - 1, tp += b - 1, inter += c - 1;
  }
  // Pairs of the evaluated items: predicted together (pp), truly together (tp), both (inter);
  // with no predicted (true) pair the precision (recall) is 1.
  const auto pair = eval::prf(inter, pp, tp, 1.0);
  ClusterScores s;
  s.mean_f1 = f1 / double(scored.size());
  s.pair_precision = pair.precision;
  s.pair_recall = pair.recall;
  s.pair_f1 = pair.f1;
  return s;
}

}  // namespace lookalike::dedup
