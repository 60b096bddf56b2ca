// Threshold clustering: link every pair whose score passes the threshold, then take connected
// components with a union-find. The pairs come from the index, one query tile at a time, so
// memory is the tile's hits, never an n x n matrix.
#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/index/vector_index.h"
#include "lookalike/util/union_find.h"

namespace lookalike::index {

ClusterResult threshold_clusters(const torch::Tensor& x, float threshold, const ClusterOptions& o) {
  check_vectors(x, "threshold_clusters: x");
  LOOKALIKE_CHECK_ARG(std::isfinite(threshold), "threshold_clusters: threshold must be finite");
  LOOKALIKE_CHECK_ARG(o.k >= 0, "threshold_clusters: k must be >= 0, got ", o.k);
  LOOKALIKE_CHECK_ARG(o.query_tile > 0, "threshold_clusters: query_tile must be > 0");
  const int64_t n = x.size(0);
  IndexOptions io;
  io.metric = o.metric;
  io.spec = o.k > 0 ? o.spec : "Flat";
  VectorIndex index(x.size(1), io);
  auto xc = x.to(torch::kCPU).contiguous();
  if (!index.is_trained()) index.train(xc);
  index.add(xc, torch::arange(n, torch::kLong));
  const bool ip = o.metric == "ip";

  util::UnionFind uf(n);
  std::vector<int64_t> degree(n, 0);
  int64_t edges = 0;
  auto link = [&](int64_t a, int64_t b) {
    if (a == b || b < 0) return;
    ++degree[a];
    if (a < b) ++edges;  // each pair is seen from both ends in an exact search
    uf.unite(a, b);
  };
  for (int64_t s = 0; s < n; s += o.query_tile) {
    const int64_t e = std::min(n, s + o.query_tile);
    auto q = xc.slice(0, s, e);
    if (o.k == 0) {
      auto r = index.range_search(q, threshold, o.params);
      const int64_t* lims = r.lims.data_ptr<int64_t>();
      const int64_t* ids = r.ids.data_ptr<int64_t>();
      for (int64_t i = 0; i < e - s; ++i)
        for (int64_t j = lims[i]; j < lims[i + 1]; ++j) link(s + i, ids[j]);
    } else {
      const int64_t kk = std::min(n, o.k + 1);  // + the item itself
      auto r = index.search(q, kk, o.params);
      auto sc = r.scores.accessor<float, 2>();
      auto id = r.indices.accessor<int64_t, 2>();
      for (int64_t i = 0; i < e - s; ++i)
        for (int64_t j = 0; j < kk; ++j) {
          const bool pass = ip ? sc[i][j] > threshold : sc[i][j] < threshold;
          if (!pass) break;  // nearest first: the rest cannot pass either
          link(s + i, id[i][j]);
        }
    }
  }
  if (o.k > 0) {  // k-NN edges are directed: count each linked pair once
    edges = 0;
    for (int64_t d : degree) edges += d;
  }

  ClusterResult out;
  out.labels = torch::empty({n}, torch::kLong);
  auto lab = out.labels.data_ptr<int64_t>();
  std::vector<int64_t> root_label(n, -1), reps, sizes;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = uf.find(i);
    if (root_label[r] < 0) {
      root_label[r] = static_cast<int64_t>(reps.size());
      reps.push_back(i);
      sizes.push_back(0);
    }
    const int64_t c = root_label[r];
    lab[i] = c;
    ++sizes[c];
    if (degree[i] > degree[reps[c]]) reps[c] = i;  // most links; ties keep the first
  }
  out.representatives = torch::tensor(reps, torch::kLong);
  out.sizes = torch::tensor(sizes, torch::kLong);
  out.num_edges = edges;
  out.reduction_ratio = double(n) / double(reps.size());
  return out;
}

}  // namespace lookalike::index
