#pragma once
// The duplicate recall study's loop, end to end (Coupang's study as a tool): split by group →
// every pipeline's candidates → ground-truth comparison → pair features → matcher (fitted on the
// calibration groups, or loaded) → its judgement of the queries' candidates → pairs only one
// pipeline finds → threshold clustering and clustering by the matcher → headline metrics. The
// Python study keeps the config, the data loading, the plots and the report text.
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/dedup/listings.h"
#include "lookalike/util/json.h"
#include "lookalike/util/options.h"

namespace lookalike::dedup {

struct StudySplitOptions {
  double test_fraction = 0.5;  // groups held out for queries
  // share of the training groups that fit the matcher and choose thresholds (the encoders never
  // see them); 0: the matcher learns on the encoders' groups
  double calibration_fraction = 0.3;
};
LOOKALIKE_OPTIONS(StudySplitOptions, test_fraction, calibration_fraction)

struct StudyMatcherOptions {
  bool enabled = true;
  int64_t n = 0;  // candidates per calibration query it learns from (0: the largest of ns)
  double l2 = 1.0;
  std::vector<std::string> numeric_attrs = {"price"};  // attributes compared as numbers
  std::string from;  // a matcher.json of an earlier run to judge with instead of fitting one
};
LOOKALIKE_OPTIONS(StudyMatcherOptions, enabled, n, l2, numeric_attrs, from)

struct StudyClusteringOptions {
  bool enabled = true;
  std::string embedding = "text";  // the pipeline whose embeddings are clustered
  std::vector<double> thresholds = {0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95};
  int64_t matcher_n = 10;  // also cluster by the matcher over every listing's top matcher_n (0: no)
};
LOOKALIKE_OPTIONS(StudyClusteringOptions, enabled, embedding, thresholds, matcher_n)

struct StudyReportOptions {
  int64_t gallery = 6;  // examples per pipeline of pairs only it finds
  std::vector<std::string> histogram_features = {"cos_text", "cos_image", "title_jaccard",
                                                 "phash_similarity", "score_bm25"};
};
LOOKALIKE_OPTIONS(StudyReportOptions, gallery, histogram_features)

struct RecallStudyOptions {
  uint64_t seed = 0;
  int threads = 0;  // the image pipeline's (<= 0: torch's count)
  StudySplitOptions split;
  int64_t queries = 0;  // query listings drawn from the test groups; 0: all with a duplicate
  std::vector<int64_t> ns = {1, 5, 10, 50};
  std::vector<std::string> pipelines = {"bm25", "text"};
  std::string baseline = "bm25";  // "" for none
  StudyMatcherOptions matcher;
  StudyClusteringOptions clustering;
  StudyReportOptions report;
};
LOOKALIKE_OPTIONS(RecallStudyOptions, seed, threads, split, queries, ns, pipelines, baseline,
                  matcher, clustering, report)

struct RecallStudyResult {
  /// The report (metrics.json's body): ground_truth_available, split, pipelines, ground_truth
  /// (with groups) or by_matcher comparisons (dedup::summarise), matcher, only_found_by,
  /// gallery, clustering, matcher_clustering, metrics (the flat headline).
  util::OptionsJson report;
  /// {"only <pipeline>": {feature: [values]}}: features of the pairs one pipeline alone finds.
  util::OptionsJson panels;
  /// Seconds per step ("<pipeline>_s", "matcher_s", "clustering_s", "matcher_clustering_s").
  std::map<std::string, double> timings;
};

/// Runs the study on `items` with duplicate groups `groups` (int64 [N], or undefined without
/// ground truth: then matcher.from is required and queries are any listings).
/// `pipeline_options`: {pipeline name: its options (make_pipeline)}; the learned pipelines take
/// the study's seed (and image its threads) unless set. The fitted matcher is saved to
/// `matcher_path` (atomic) when not empty. Errors (InvalidArgument): an unknown pipeline or
/// baseline, ns not below the number of listings, a calibration split without both kinds of
/// pair, a loaded matcher trained on other features.
RecallStudyResult run_recall_study(const Listings& items, const torch::Tensor& groups,
                                   const RecallStudyOptions& options,
                                   const nlohmann::json& pipeline_options,
                                   const std::string& matcher_path = "");

}  // namespace lookalike::dedup
