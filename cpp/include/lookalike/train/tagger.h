#pragma once
// A trained tagger: a network with one output per tag, the tag names (families by prefix), the
// exclusive families, and the per-tag decision thresholds chosen on validation, saved and
// loaded as one file so that the thresholds travel with the weights.
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/eval/thresholds.h"
#include "lookalike/models/net.h"
#include "lookalike/train/tag_heads.h"

namespace lookalike::train {

struct Tagger {
  models::Net net{nullptr};
  std::vector<std::string> tags;             // [T]
  std::vector<std::string> exclusive;        // families scored with a softmax
  torch::Tensor thresholds;                  // float [T]; undefined until chosen
  eval::ThresholdOptions threshold_options;  // how they were chosen
};

/// InvalidArgument unless the network has a classifier with one output per tag, the exclusive
/// families exist and the thresholds (when set) are float [T].
void check_tagger(const Tagger& tagger);

/// Tag scores in [0, 1] float [N, T] of images uint8/float [N, C, H, W] (tag_probabilities).
torch::Tensor tag_scores(Tagger& tagger, const torch::Tensor& images, int64_t batch_size = 256,
                         const std::string& device = "cpu");

/// Chooses the thresholds from scores float [N, T] (tag_scores of validation photos) and their
/// targets, stores them in the tagger and returns the choice (eval/thresholds.h).
eval::Thresholds fit_thresholds(Tagger& tagger, const torch::Tensor& scores,
                                const torch::Tensor& targets,
                                const eval::ThresholdOptions& options = {});

/// 0/1 float [N, T]: scores >= the tagger's thresholds. InvalidArgument when none are chosen.
torch::Tensor predict_tags(const Tagger& tagger, const torch::Tensor& scores);

/// Writes the tagger (network, tags, families, thresholds) to `path` atomically.
void save_tagger(const Tagger& tagger, const std::string& path);
/// Reads a file save_tagger wrote; FileError naming the file when it is not one.
Tagger load_tagger(const std::string& path);

}  // namespace lookalike::train
