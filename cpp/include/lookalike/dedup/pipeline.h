#pragma once
// Candidate pipelines by name: each proposes n candidates for every listing (the listing itself
// excluded) — "bm25" (Xapian), "text" (title encoder + vector index), "image" (the Trainer's CNN
// + vector index), "phash" (Hamming distance, FAISS binary index). One file per pipeline in
// cpp/src/dedup/pipelines/, each registering itself.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "lookalike/dedup/listings.h"
#include "lookalike/index/vector_index.h"
#include "lookalike/util/json.h"
#include "lookalike/util/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::dedup {

class CandidatePipeline {
 public:
  virtual ~CandidatePipeline() = default;
  /// Learns what it needs from the rows `fit_rows` (int64) of `items`; groups int64 [N] (each
  /// row its own group without ground truth).
  virtual void fit(const Listings& items, const torch::Tensor& groups,
                   const torch::Tensor& fit_rows) = 0;
  /// (ids int64 [N, n], scores float32 [N, n], higher = more alike) for every row, itself
  /// excluded, -1 where fewer were found.
  virtual std::pair<torch::Tensor, torch::Tensor> candidates(int64_t n) const = 0;
  /// float32 [N, d], L2-normalised, for pipelines that embed (undefined otherwise).
  virtual torch::Tensor embeddings() const { return {}; }
  /// What fitting recorded: "history" (one record per epoch) for learned pipelines, and the
  /// classes and label of the image pipeline.
  virtual util::OptionsJson info() const { return util::OptionsJson::object(); }
};

/// The registered pipeline names, sorted.
std::vector<std::string> pipelines();

/// The pipeline `name` with its options (a JSON object; unknown keys and wrong types are
/// InvalidArgument naming them): bm25 — Bm25Options; text — TextEncoderOptions in the flat form
/// plus "index" (FAISS spec) and "search" (SearchParams); image — TrainOptions in the flat form
/// plus "label" ("group" or an attribute column), "index" and "search"; phash — none.
std::unique_ptr<CandidatePipeline> make_pipeline(const std::string& name,
                                                 const nlohmann::json& options);

namespace detail {
using PipelineFactory = std::unique_ptr<CandidatePipeline> (*)(const nlohmann::json& options);
// The pipelines by name: each file in cpp/src/dedup/pipelines/ registers its own
// (LOOKALIKE_REGISTER, util/registry.h).
util::Registry<PipelineFactory>& pipeline_registry();

// Records as a JSON array of objects.
util::OptionsJson history_json(const std::vector<util::Record>& history);

// Splits the vector-search keys ("index": spec, "search": SearchParams) off `options`.
struct VectorSearch {
  std::string spec = "Flat";
  index::SearchParams params;
};
VectorSearch take_vector_search(nlohmann::json& options, const std::string& pipeline);
// Every row's n nearest rows of `x` (float32 [N, d], inner product) through a VectorIndex, itself
// excluded.
std::pair<torch::Tensor, torch::Tensor> vector_candidates(const torch::Tensor& x,
                                                          const VectorSearch& how, int64_t n);
}  // namespace detail

}  // namespace lookalike::dedup
