#pragma once
// One run of the recall study (recall_study.h): the steps share the listings, the split, the
// candidates and the matcher. Steps in recall_study.cpp (split, candidates, matcher) and
// recall_study_clusters.cpp (pairs one pipeline alone finds, clustering, headline).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "lookalike/dedup/comparison.h"
#include "lookalike/dedup/matcher.h"
#include "lookalike/dedup/pair_features.h"
#include "lookalike/dedup/pipeline.h"
#include "lookalike/dedup/recall_study.h"

namespace lookalike::dedup::detail {

class RecallRun {
 public:
  RecallRun(const Listings& items, const torch::Tensor& groups, const RecallStudyOptions& options);

  void split();
  void candidates(const nlohmann::json& pipeline_options);
  void judge(const std::string& matcher_path);
  void only_found();
  void cluster();
  void cluster_by_matcher();
  void headline();

  bool clusters_embedding() const;  // the clustering embedding is among the pipelines'
  bool has_matcher() const { return matcher_.has_value(); }
  RecallStudyResult take() { return std::move(result_); }

 private:
  // Features float64 [m, f] of pairs int64 [m, 2] and their names: dedup::pair_features over
  // the pipelines' embeddings, phash, titles and attributes, plus score_<pipeline> of every
  // pipeline without embeddings (phash aside) where the pair is in its list (else 0).
  std::pair<torch::Tensor, std::vector<std::string>> features(const torch::Tensor& pairs) const;
  // Fits (or loads) the matcher and its feature names; returns its report entries besides its
  // parameters.
  util::OptionsJson fit_matcher(const std::vector<torch::Tensor>& lists);
  std::vector<torch::Tensor> candidate_ids() const;  // every pipeline's ids [N, n_max]
  util::OptionsJson& report() { return result_.report; }

  // Times a step into result_.timings["<step>_s"].
  template <class F>
  void timed(const std::string& step, F&& f) {
    const auto t = std::chrono::steady_clock::now();
    f();
    result_.timings[step + "_s"] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  const Listings& items_;
  torch::Tensor groups_;  // int64 [N]; each row its own group without ground truth
  bool truth_;
  RecallStudyOptions o_;
  std::vector<int64_t> ns_;  // sorted
  int64_t n_max_ = 0;
  torch::Tensor fit_rows_, cal_rows_, test_rows_, queries_;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> cands_;  // per pipeline: (ids, scores)
  std::vector<torch::Tensor> cand_q_;                           // per pipeline: ids[queries]
  std::vector<std::string> embedding_names_;
  std::vector<torch::Tensor> embeddings_;
  PairFeatureInputs feature_inputs_;
  std::optional<PipelineComparison> truth_cmp_, judged_cmp_;
  std::optional<Matcher> matcher_;
  std::vector<std::string> matcher_features_;  // the matcher's feature names
  RecallStudyResult result_;
};

}  // namespace lookalike::dedup::detail
