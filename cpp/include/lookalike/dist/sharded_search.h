#pragma once
// Search over an index split by id across the ranks of dist::world(): each rank holds a shard
// (the items whose id mod world size is its rank), rank 0's queries are broadcast, every rank
// searches its shard, and the top-k lists are gathered and merged, so every rank gets the same
// result the whole index would give (exactly so for Flat, ties aside).
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/dist/world.h"
#include "lookalike/index/knn.h"
#include "lookalike/index/vector_index.h"

namespace lookalike::dist {

/// The rows of `ids` (int64 [n]) that rank `rank` of `size` holds: those with id mod size ==
/// rank (int64 [m], ascending).
torch::Tensor shard_rows(const torch::Tensor& ids, int rank, int size);

/// The k best of several result lists for the same queries: scores float [nq, k_i] and ids int64
/// [nq, k_i] per list; nearest first by `metric` ("ip": larger, "l2": smaller), equal scores by
/// the smaller id, missing entries (id -1) last. Returns scores [nq, k], ids [nq, k] (-1 and
/// -inf / +inf where fewer than k exist).
index::KnnResult merge_topk(const std::vector<torch::Tensor>& scores,
                            const std::vector<torch::Tensor>& ids, int64_t k,
                            const std::string& metric);

/// Collective: rank 0's `queries` (float [nq, d]; the other ranks' argument is not read) searched
/// in every rank's `shard`; every rank returns the merged k nearest (indices hold ids). The
/// shards must agree on dimension and metric (DistError otherwise).
index::KnnResult sharded_search(World& w, const index::VectorIndex& shard,
                                const torch::Tensor& queries, int64_t k,
                                const index::SearchParams& params = {});

/// Writes this rank's shard to `<prefix>.shard<r>-of-<W>` and, on rank 0, the manifest
/// `<prefix>.shards.json` (world size, dimension, metric, each shard's size and id checksum).
/// Collective; atomic writes.
void save_shard(World& w, const index::VectorIndex& shard, const std::string& prefix);

/// Reads this rank's shard written by save_shard and checks it against the manifest: FileError
/// when a file is missing, was written for another world size, or holds another index's items.
index::VectorIndex load_shard(World& w, const std::string& prefix,
                              const std::string& device = "cpu");

}  // namespace lookalike::dist
