#pragma once
// A linear tag classifier on fixed features of any kind: a frozen network's pooled image
// features, title embeddings (dedup/text.h), or their concatenation (late fusion of the two
// embeddings). The features are standardised with the training rows' mean and deviation; the
// loss is the tag heads' (train/tag_heads.h: families, exclusive softmax families, the
// multi-label loss by name, positive weights).
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/train/linear_probe.h"
#include "lookalike/train/tag_heads.h"
#include "lookalike/util/json.h"

namespace lookalike::train {

struct TagProbe {
  torch::Tensor mean, std;     // float [D]: the standardisation
  torch::Tensor weight, bias;  // float [T, D], [T]
  std::vector<TagFamily> families;

  /// Tag scores in [0, 1] float [N, T] of features float [N, D] (tag_probabilities).
  torch::Tensor scores(const torch::Tensor& features) const;
};

/// Fits the probe on features float [N, D] (finite) and targets float [N, T] (0/1) of tags [T],
/// with the heads' loss (heads.tag_loss, tag_pos_weight, exclusive) and the probe's schedule
/// (options.epochs, lr, weight_decay, batch_size, seed; its own loss and pos_weight must stay at
/// their defaults: the heads' apply). `record` gets {"loss", "seconds"}. InvalidArgument for
/// shapes that disagree, NaN, an empty set.
TagProbe fit_tag_probe(const torch::Tensor& features, const torch::Tensor& targets,
                       const std::vector<std::string>& tags, const TagHeadOptions& heads,
                       const ProbeOptions& options, util::Record* record = nullptr);

}  // namespace lookalike::train
