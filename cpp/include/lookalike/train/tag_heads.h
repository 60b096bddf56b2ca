#pragma once
// Tag heads on one trunk: a network's classifier has one output per tag (T outputs), and the
// tags are grouped into families by the prefix of their names ("colour:Blue" is in family
// "colour"; a name without ':' is in family "tag"). A family is either
//   multi-label  one sigmoid per tag, trained with a multi-label loss by name (bce, focal, asl;
//                train/multilabel_loss.h) and an optional per-tag positive weight, or
//   exclusive    a softmax over the family's tags (one of them per photo: colour, usage),
//                trained with cross-entropy; a photo with none of the family's tags has no
//                label for that family (masked out), more than one is an error.
// The loss of a batch is the multi-label loss over every multi-label column plus the mean
// cross-entropy of each exclusive family.
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/train/multilabel_loss.h"
#include "lookalike/util/json.h"
#include "lookalike/util/options.h"

namespace lookalike::train {

struct TagHeadOptions {
  // (Named tag_* because TrainOptions' flat keyword form lifts these beside metric.loss.)
  MultiLabelLossOptions tag_loss;  // the multi-label families' loss
  // Per-tag positive weight from the training targets: "none", "balanced" (negatives /
  // positives, at least 1) or "sqrt" (its square root). Exclusive families weight their classes
  // the same way (balanced: n / (K count), as scikit-learn's class_weight="balanced").
  std::string tag_pos_weight = "none";
  std::vector<std::string> exclusive;  // families trained as one softmax each
};
LOOKALIKE_OPTIONS(TagHeadOptions, tag_loss, tag_pos_weight, exclusive)

/// InvalidArgument naming the first bad option.
void validate(const TagHeadOptions& options);
/// True when every option has its default (what a set with single labels requires).
bool is_default(const TagHeadOptions& options);

/// The family of a tag name: the part before the first ':', or "tag" when there is none.
std::string tag_family(const std::string& tag);

struct TagFamily {
  std::string name;
  std::vector<int64_t> columns;  // the family's tags, ascending
  bool exclusive = false;
};

/// The families of `tags` [T] in order of first appearance. InvalidArgument when a family
/// named in `exclusive` has no tag.
std::vector<TagFamily> tag_families(const std::vector<std::string>& tags,
                                    const std::vector<std::string>& exclusive);

/// Scores in [0, 1] float [B, T] of logits float [B, T]: the sigmoid of multi-label columns, the
/// softmax over each exclusive family's columns.
torch::Tensor tag_probabilities(const torch::Tensor& logits,
                                const std::vector<TagFamily>& families);

class TagHeads {
 public:
  /// Families from `tags` [T]; the positive weights from `train_targets` float [N, T] (0/1);
  /// `what` names the targets in messages. InvalidArgument for targets that are not 0/1 float
  /// [N, T], or a photo with two tags of one exclusive family.
  TagHeads(const std::vector<std::string>& tags, const TagHeadOptions& options,
           const torch::Tensor& train_targets, const char* what = "targets");

  /// The loss of logits float [B, T] against targets float [B, T] (on the logits' device).
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets) const;
  /// tag_probabilities under these families.
  torch::Tensor probabilities(const torch::Tensor& logits) const {
    return tag_probabilities(logits, families_);
  }
  /// bool [N, T]: where targets float [N, T] are known: everywhere in multi-label columns; in an
  /// exclusive family, the photos with one of its tags (the others have no label there).
  torch::Tensor known(const torch::Tensor& targets) const;
  /// InvalidArgument (naming `what`) unless targets are 0/1 float [N, T] with at most one tag of
  /// each exclusive family per photo.
  void check_targets(const torch::Tensor& targets, const char* what) const;

  const std::vector<TagFamily>& families() const { return families_; }
  /// Tags with no positive in the training targets (their weight is 1; they cannot be learnt).
  const std::vector<std::string>& tags_without_positives() const { return empty_; }
  /// float [T]: the per-tag positive weights (all 1 with pos_weight "none").
  const torch::Tensor& weights() const { return weights_; }
  int64_t size() const { return static_cast<int64_t>(tags_.size()); }

 private:
  std::vector<std::string> tags_, empty_;
  std::vector<TagFamily> families_;
  std::shared_ptr<MultiLabelLoss> loss_;
  torch::Tensor multi_columns_;  // int64 [M]: the multi-label columns (undefined when none)
  torch::Tensor weights_;
};

}  // namespace lookalike::train
