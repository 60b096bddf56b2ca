#pragma once
// Retrieval metrics with pytorch-metric-learning's definitions (AccuracyCalculator), each a
// registered strategy (eval/metric.h, one file each in cpp/src/eval/metrics/):
//   precision_at_1  share of queries whose nearest reference has the query's label;
//   recall_at_k     share of queries with at least one same-label reference in the top k;
//   r_precision     mean over queries of (same-label references in the top R) / R, where R is
//                   the number of references with the query's label;
//   map_at_r        mean over queries of (1/R) * sum_{i<=R} precision@i * rel(i).
// Queries whose label has no reference (R = 0) are left out of every metric and counted.
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/index/knn.h"

#include "lookalike/util/options.h"

namespace lookalike::eval {

struct RetrievalOptions {
  // by name, see eval::metrics()
  std::vector<std::string> metrics = {"precision_at_1", "recall_at_k", "r_precision", "map_at_r"};
  std::vector<int64_t> ks = {1, 10};  // recall_at_k for each
  std::string metric = "ip";          // "ip" | "l2"
  std::string backend = "auto";       // kNN backend, see index::KnnOptions
  int64_t max_entries = 1 << 23;      // cap on query_tile * k ids held at once (12 B each)
};
LOOKALIKE_OPTIONS(RetrievalOptions, metrics, ks, metric, backend, max_entries)

/// query: float32 [nq, d], query_labels: int64 [nq]; reference/reference_labels: the same for
/// a separate reference set, or undefined tensors to search the query set against itself
/// with each query's own entry excluded. Returns each chosen metric's keys (by default
/// precision_at_1, recall_at_<k> for each k, r_precision, map_at_r), num_queries (counted) and
/// num_excluded (R = 0).
std::map<std::string, double> retrieval_metrics(const torch::Tensor& query,
                                                const torch::Tensor& query_labels,
                                                const torch::Tensor& reference,
                                                const torch::Tensor& reference_labels,
                                                const RetrievalOptions& options = {});

/// The same metrics over ranked lists given by the caller (a re-ranked search): ids int64
/// [nq, K] into the reference set (-1: no candidate), query_labels int64 [nq], reference_labels
/// int64 [nref]. R counts every reference with the query's label; ranks past K count as not
/// relevant (so MAP@R and R-precision are those of the list truncated at K; with K >= every R
/// they equal retrieval_metrics on the same order). options.metric/backend are not read.
std::map<std::string, double> ranked_metrics(const torch::Tensor& ids,
                                             const torch::Tensor& query_labels,
                                             const torch::Tensor& reference_labels,
                                             const RetrievalOptions& options = {});

}  // namespace lookalike::eval
