#pragma once
// What the duplicate-recall study computes: candidate lists with the query removed, Hamming
// candidates over perceptual hashes, true-positive sets per pipeline and how they overlap,
// pair features for the matcher, and the cluster-level scores of a catalogue clustering.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace lookalike::dedup {

/// Candidates of every row against all rows, found with one extra neighbour: removes row i
/// from row i's list wherever it is (ties can put it anywhere) and keeps the first n.
/// ids int64 [N, k] (-1 padding), scores float32 [N, k]; k >= n + 1 unless N is small.
std::pair<torch::Tensor, torch::Tensor> drop_self(const torch::Tensor& ids,
                                                  const torch::Tensor& scores, int64_t n);

/// For every row, the n rows with the nearest 64-bit perceptual hash (uint8 [N, 8]) by Hamming
/// distance, itself excluded, through a FAISS binary index. (ids int64 [N, n], distances
/// float32 [N, n] in bits). Needs FAISS.
std::pair<torch::Tensor, torch::Tensor> hamming_candidates(const torch::Tensor& codes, int64_t n);

/// bool [q, n]: candidate (query_rows[i], ids[i][j]) is a true duplicate (same group, not -1).
torch::Tensor same_group(const torch::Tensor& query_rows, const torch::Tensor& ids,
                         const torch::Tensor& groups);
/// The true pairs the queries could find: sum over queries of (size of its group - 1).
int64_t true_pairs(const torch::Tensor& query_rows, const torch::Tensor& groups);

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

/// Score of each pair (q, c) (int64 [m, 2]) in q's candidate list (ids [N, n], scores
/// [N, n] indexed by row); `fill` where c is not among q's candidates.
torch::Tensor lookup_scores(const torch::Tensor& pairs, const torch::Tensor& ids,
                            const torch::Tensor& scores, float fill);

/// Pair features for the matcher, float64 [m, f], and their names. Per embedding: cosine;
/// with phash: 1 - Hamming / 64; with titles: word Jaccard, the shorter/longer length ratio and
/// the share of code words (3+ characters with a digit: model numbers) both titles carry; per
/// categorical attribute: 1 equal (case-insensitive), 0 different, 0.5 unknown; per numeric
/// attribute: min/max ratio and a "present" flag (0 ratio when either is missing).
struct PairFeatureInputs {
  std::vector<std::string> embedding_names;
  std::vector<torch::Tensor> embeddings;  // float32 [N, d], L2-normalised
  torch::Tensor phash;                    // uint8 [N, 8] or undefined
  std::vector<std::string> titles;        // [N] or empty
  std::vector<std::string> attr_names;
  std::vector<std::vector<std::string>> attrs;  // [a][N]
  std::vector<bool> numeric;                    // [a]: compare as numbers
};
std::pair<torch::Tensor, std::vector<std::string>> pair_features(const torch::Tensor& pairs,
                                                                 const PairFeatureInputs& in);

/// Cluster-level scores of a clustering `pred` against true `groups` (int64 [N]), averaged
/// over `rows` (all when undefined): mean per-item F1 of the predicted vs the true group of
/// each item, both including the item (Shopee's metric), and pairwise precision/recall/F1.
struct ClusterScores {
  double mean_f1 = 0, pair_precision = 0, pair_recall = 0, pair_f1 = 0;
};
ClusterScores cluster_scores(const torch::Tensor& pred, const torch::Tensor& groups,
                             const torch::Tensor& rows = {});

}  // namespace lookalike::dedup
