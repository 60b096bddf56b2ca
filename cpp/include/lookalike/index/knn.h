#pragma once
// Exact k-nearest-neighbour search, tiled so that memory stays bounded.
#include <string>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::index {

struct KnnOptions {
  std::string metric = "ip";  // "ip" (inner product, larger is nearer) | "l2" (squared L2)
  // "fused": CPU engine, per-thread GEMM tile + streaming top-k (see fused_knn);
  // "faiss": FAISS IndexFlat (CPU); "torch": tiled torch::mm + topk (any device, CUDA too);
  // "auto": fused for CPU tensors, torch for CUDA tensors.
  std::string backend = "auto";
  int64_t query_tile = 4096;       // queries per search call (faiss and torch backends)
  int64_t reference_tile = 65536;  // references per GEMM tile (torch backend)
  // torch backend: top-k of a score tile in two stages when > 0 (top k of every chunk of this
  // many columns, then top k of the survivors), which is faster than one top-k over wide rows
  // on CUDA; 0: one stage.
  int64_t topk_chunk = 0;
  bool exclude_self = false;  // query i is reference i: drop it from its own list
  bool check_finite = true;   // scan both sets for NaN/Inf (O(n d)); a caller that already
                              // checked them, e.g. once for many query tiles, may skip it
};
LOOKALIKE_OPTIONS(KnnOptions, metric, backend, query_tile, reference_tile, topk_chunk, exclude_self,
                  check_finite)

struct KnnResult {
  torch::Tensor scores;   // float32 [nq, k]: inner products (ip) or squared distances (l2)
  torch::Tensor indices;  // int64 [nq, k]: rows of the reference set, nearest first
};

/// The k nearest references of each query. query: float32 [nq, d]; reference: float32 [nb, d]
/// on the same device; 1 <= k <= nb (nb - 1 with exclude_self). Throws InvalidArgument on
/// shape, dtype, device or k errors and on NaN/Inf.
KnnResult exact_knn(const torch::Tensor& query, const torch::Tensor& reference, int64_t k,
                    const KnnOptions& options = {});

/// References per score tile of the fused engine (512 x 2048 measured best on the 2-core CPU).
inline constexpr int64_t kFusedBlockRefs = 2048;

/// The fused CPU engine directly: query tile of `block_queries` rows against reference tiles of
/// `block_refs` rows, each OpenMP thread on its own query tile (single-threaded GEMM into a
/// thread-local buffer, then a thresholded heap scan). Memory: threads x block_queries x
/// (block_refs + 2k) floats beside the output. block_queries 0: min(512, nq / threads), at
/// least 16 (512 x 2048 measured best on the 2-core CPU: 98 % of sgemm at k = 10). Same
/// contract as exact_knn.
KnnResult fused_knn(const torch::Tensor& query, const torch::Tensor& reference, int64_t k,
                    const std::string& metric = "ip", bool exclude_self = false,
                    int64_t block_queries = 0, int64_t block_refs = kFusedBlockRefs);

/// True when this build links FAISS.
bool have_faiss();

/// Throws InvalidArgument unless `x` is a float32 [n, d] matrix, finite when `finite`; `what`
/// names it.
void check_vectors(const torch::Tensor& x, const char* what, bool finite = true);

}  // namespace lookalike::index
