#pragma once
// VectorIndex: a vector index with 64-bit external ids, removal, range search, atomic
// save/load and update logs, over two stores:
//   "engine": the exact kNN engine of knn.h on CPU (fused GEMM + top-k) or CUDA (torch), used
//             for spec "Flat" by default and for every search on a CUDA tensor store;
//   "faiss":  any FAISS factory string ("IVF1024,Flat", "IVF4096,PQ16", "HNSW32",
//             "OPQ16,IVF4096,PQ16", ... and "Flat" with backend "faiss").
// Removal: the engine, FAISS flat-code indexes (Flat, PQ, SQ) and IVF indexes remove in place;
// graph indexes (HNSW) cannot, so removed items become tombstones filtered from every result,
// and the index is rebuilt from its stored vectors once tombstones exceed rebuild_fraction.
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/index/knn.h"

#include "lookalike/util/options.h"

namespace lookalike::index {

struct IndexOptions {
  std::string spec = "Flat";      // FAISS factory string
  std::string metric = "ip";      // "ip" (larger is nearer) | "l2" (squared distance)
  std::string device = "cpu";     // "cpu" | "cuda[:n]"
  std::string backend = "auto";   // "auto" (engine for Flat, else faiss) | "engine" | "faiss"
  double rebuild_fraction = 0.1;  // no in-place removal: rebuild when dead > fraction x stored
};
LOOKALIKE_OPTIONS(IndexOptions, spec, metric, device, backend, rebuild_fraction)

struct SearchParams {
  int64_t nprobe = 0;     // IVF: inverted lists visited per query (0: the index's setting)
  int64_t ef_search = 0;  // HNSW: candidate list size (0: the index's setting)
};
LOOKALIKE_OPTIONS(SearchParams, nprobe, ef_search)

struct RangeResult {
  torch::Tensor lims;    // int64 [nq + 1]: query i's hits are entries lims[i] .. lims[i+1]-1
  torch::Tensor scores;  // float32 [lims[nq]]: nearest first within each query
  torch::Tensor ids;     // int64 [lims[nq]]: external ids
};

/// A day's changes: adds and removes, applied in order by VectorIndex::apply.
class UpdateLog {
 public:
  struct Op {
    bool add;
    torch::Tensor vectors;  // float32 [n, d] (adds), undefined for removes
    torch::Tensor ids;      // int64 [n]
  };
  void add(const torch::Tensor& vectors, const torch::Tensor& ids);
  void remove(const torch::Tensor& ids);
  const std::vector<Op>& ops() const { return ops_; }
  int64_t num_added() const;
  int64_t num_removed() const;
  void save(const std::string& path) const;  // atomic
  static UpdateLog load(const std::string& path);

 private:
  std::vector<Op> ops_;
};

struct ApplyReport {
  int64_t added = 0;
  int64_t removed = 0;
  bool rebuilt = false;
};

class VectorIndex {
 public:
  /// Throws InvalidArgument on dim <= 0, an unknown metric/device/backend, or a factory string
  /// FAISS does not know.
  explicit VectorIndex(int64_t dim, IndexOptions options = {});
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  int64_t dim() const;
  const IndexOptions& options() const;
  std::string backend() const;  // "engine" | "faiss" (resolved)
  int64_t size() const;         // live items
  int64_t dead() const;         // tombstones awaiting a rebuild
  bool is_trained() const;
  bool removes_in_place() const;
  bool contains(int64_t id) const;
  torch::Tensor ids() const;  // live ids, int64, in storage order

  /// Trains quantisers (IVF, PQ, OPQ); a no-op for indexes that need none.
  void train(const torch::Tensor& x);
  /// x: float32 [n, d], finite; ids: int64 [n], unique and not in the index.
  void add(const torch::Tensor& x, const torch::Tensor& ids);
  /// Removes the given ids (every one must be present); returns how many were removed.
  int64_t remove(const torch::Tensor& ids);
  /// Ids int64 [nq, k] (-1 where fewer than k items were found) and scores float32 [nq, k]
  /// (-inf / +inf at the -1 entries for ip / l2). Never returns a removed id.
  KnnResult search(const torch::Tensor& query, int64_t k, const SearchParams& params = {}) const;
  /// Every item with score > threshold (ip) or squared distance < threshold (l2).
  RangeResult range_search(const torch::Tensor& query, float threshold,
                           const SearchParams& params = {}) const;

  /// Applies a log's ops in order; the whole log is validated first, so a bad log leaves the
  /// index unchanged. Rebuilds when the dead fraction passes rebuild_fraction.
  ApplyReport apply(const UpdateLog& log);
  /// Rebuilds the index from its live items (drops tombstones), keeping the trained quantisers.
  void rebuild();

  void save(const std::string& path) const;  // atomic: a crash never leaves a partial file
  static VectorIndex load(const std::string& path, const std::string& device = "cpu");
  /// Bytes of the index's own data (vectors, codes, graph, id maps): its saved payload size.
  int64_t memory_bytes() const;

  struct Impl;

 private:
  explicit VectorIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Threshold clustering: items linked when their score passes `threshold` (> for ip, < for
/// l2), clusters = connected components (union-find).
struct ClusterOptions {
  std::string metric = "ip";
  int64_t k = 0;              // 0: every pair (exact range search); > 0: k-NN graph edges only
  std::string spec = "Flat";  // index for the k-NN graph (k > 0)
  SearchParams params;        // search parameters of that index
  int64_t query_tile = 1024;  // queries per range/k-NN search call
};
LOOKALIKE_OPTIONS(ClusterOptions, metric, k, spec, params, query_tile)

struct ClusterResult {
  torch::Tensor labels;           // int64 [n]: cluster of each item, 0.. in order of first item
  torch::Tensor representatives;  // int64 [C]: per cluster, the member with most links
  torch::Tensor sizes;            // int64 [C]
  int64_t num_edges = 0;          // linked pairs found (each counted once)
  double reduction_ratio = 1.0;   // n / C
};

ClusterResult threshold_clusters(const torch::Tensor& x, float threshold,
                                 const ClusterOptions& options = {});

/// One point of a recall/speed sweep: neighbour recall@k against ground-truth ids [nq, >= k] (the
/// share of each query's true k nearest found in its top k, averaged), batch queries per second,
/// and single-query latency percentiles over the first `latency_queries` queries.
struct SweepPoint {
  double neighbour_recall = 0, qps = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0;
};
SweepPoint measure_search(const VectorIndex& index, const torch::Tensor& query,
                          const torch::Tensor& ground_truth, int64_t k, const SearchParams& params,
                          int64_t latency_queries = 1000);

}  // namespace lookalike::index
