// One point of a recall/speed sweep, timed here in C++ so that no interpreter sits inside the
// measured loop.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "lookalike/error.h"
#include "lookalike/index/vector_index.h"

namespace lookalike::index {

namespace {
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * double(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}
}  // namespace

SweepPoint measure_search(const VectorIndex& index, const torch::Tensor& query,
                          const torch::Tensor& ground_truth, int64_t k, const SearchParams& params,
                          int64_t latency_queries) {
  check_vectors(query, "measure_search: query");
  LOOKALIKE_CHECK_ARG(
      ground_truth.dim() == 2 && ground_truth.scalar_type() == torch::kLong &&
          ground_truth.size(0) == query.size(0),
      "measure_search: ground_truth must be int64 [nq, >= k] with nq = ", query.size(0), ", got ",
      ground_truth.sizes(), " ", ground_truth.scalar_type());
  LOOKALIKE_CHECK_ARG(k >= 1 && ground_truth.size(1) >= k, "measure_search: k = ", k,
                      " needs >= k ground-truth columns, got ", ground_truth.size(1));
  LOOKALIKE_CHECK_ARG(latency_queries >= 0, "measure_search: latency_queries must be >= 0");
  using clock = std::chrono::steady_clock;
  const int64_t nq = query.size(0);
  auto q = query.to(torch::kCPU).contiguous();
  SweepPoint out;
  const auto t0 = clock::now();
  auto res = index.search(q, k, params);
  const double secs = std::chrono::duration<double>(clock::now() - t0).count();
  out.qps = double(nq) / std::max(secs, 1e-12);

  auto gt = ground_truth.to(torch::kCPU).contiguous();
  auto g = gt.accessor<int64_t, 2>();
  auto r = res.indices.accessor<int64_t, 2>();
  double found = 0;
  for (int64_t i = 0; i < nq; ++i) {
    std::unordered_set<int64_t> truth(&g[i][0], &g[i][0] + k);
    for (int64_t j = 0; j < k; ++j) found += truth.count(r[i][j]) ? 1 : 0;
  }
  out.neighbour_recall = found / double(nq * k);

  const int64_t nl = std::min(nq, latency_queries);
  if (nl > 0) {
    std::vector<double> ms(nl);
    for (int64_t i = 0; i < nl; ++i) {
      auto qi = q.slice(0, i, i + 1);
      const auto s = clock::now();
      index.search(qi, k, params);
      ms[i] = std::chrono::duration<double, std::milli>(clock::now() - s).count();
    }
    out.p50_ms = percentile(ms, 0.50);
    out.p90_ms = percentile(ms, 0.90);
    out.p99_ms = percentile(ms, 0.99);
  }
  return out;
}

}  // namespace lookalike::index
