#pragma once
// Comparing candidate pipelines over the same queries: their true-positive sets, how the sets
// overlap, recall of true pairs (pair recall: found / true pairs of the queries) and the gain
// over a baseline pipeline.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::dedup {

/// True-positive sets of several pipelines over the same queries. candidates[p] int64 [q, n_p]
/// (aligned with the queries, best first), positive[p] bool of the same shape: the candidate
/// is a match (by ground truth or by the matcher). A pair is (query row, candidate row).
struct PipelineComparison {
  std::vector<int64_t> ns;
  std::vector<std::vector<int64_t>> found;    // [p][n index]: positive pairs within the top n
  std::vector<int64_t> union_found;           // [n index]: of the union of all pipelines
  std::vector<std::vector<int64_t>> overlap;  // [a][b] at the largest n: |TP_a and TP_b|
  std::vector<int64_t> venn;        // [mask] at the largest n: pairs found by exactly the pipelines
                                    // in the bit mask (bit p = pipeline p); venn[0] = 0
  std::vector<torch::Tensor> only;  // [p] int64 [m, 2]: pairs found by pipeline p alone
};
PipelineComparison compare_pipelines(const std::vector<torch::Tensor>& candidates,
                                     const std::vector<torch::Tensor>& positive,
                                     const torch::Tensor& query_rows,
                                     const std::vector<int64_t>& ns);

/// The comparison as the study reports it (JSON; n as string keys "1", "5", ...):
///   found {pipeline | "union": {n: pairs}}; with true_pairs > 0 also pair_recall {..: {n:
///   found / true_pairs}} and relative_gain_over_<baseline>; gain_over_<baseline> (recall points,
///   or pairs without true_pairs; baseline "" or absent: none); overlap_at_n (largest n);
///   overlap_pairs {a: {b: |TP_a and TP_b|}}; overlap_share {a: {b: that / |TP_a| or null}};
///   venn {"a&b": pairs found by exactly those}.
util::OptionsJson summarise(const PipelineComparison& comparison,
                            const std::vector<std::string>& names, int64_t true_pairs,
                            const std::string& baseline);

}  // namespace lookalike::dedup
