#include <cmath>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/metric/loss.h"
#include "lookalike/util/device.h"
#include "resolve.h"

namespace lookalike::train {

void validate(const TrainOptions& o) {
  LOOKALIKE_CHECK_ARG(o.epochs > 0, "epochs must be positive, got ", o.epochs);
  LOOKALIKE_CHECK_ARG(o.batch_size > 1, "batch_size must be at least 2 (batch norm), got ",
                      o.batch_size);
  LOOKALIKE_CHECK_ARG(o.optimizer == "adam" || o.optimizer == "sgd",
                      "optimizer must be 'adam' or 'sgd', got '", o.optimizer, "'");
  LOOKALIKE_CHECK_ARG(o.lr > 0 && std::isfinite(o.lr), "lr must be positive, got ", o.lr);
  LOOKALIKE_CHECK_ARG(o.momentum >= 0 && o.momentum < 1, "momentum must be in [0, 1), got ",
                      o.momentum);
  LOOKALIKE_CHECK_ARG(o.weight_decay >= 0, "weight_decay must be >= 0, got ", o.weight_decay);
  LOOKALIKE_CHECK_ARG(o.schedule == "cosine" || o.schedule == "step" || o.schedule == "constant",
                      "schedule must be 'cosine', 'step' or 'constant', got '", o.schedule, "'");
  LOOKALIKE_CHECK_ARG(o.step_size > 0, "step_size must be positive, got ", o.step_size);
  LOOKALIKE_CHECK_ARG(o.gamma > 0 && o.gamma <= 1, "gamma must be in (0, 1], got ", o.gamma);
  LOOKALIKE_CHECK_ARG(o.warmup_epochs >= 0, "warmup_epochs must be >= 0, got ", o.warmup_epochs);
  LOOKALIKE_CHECK_ARG(o.augment == "none" || o.augment == "flip" || o.augment == "flip_crop",
                      "augment must be 'none', 'flip' or 'flip_crop', got '", o.augment, "'");
  LOOKALIKE_CHECK_ARG(
      o.progress == "auto" || o.progress == "on" || o.progress == "lines" || o.progress == "off",
      "progress must be 'auto', 'on', 'lines' or 'off', got '", o.progress, "'");
  LOOKALIKE_CHECK_ARG(o.distributed == "auto" || o.distributed == "off",
                      "distributed must be 'auto' (the environment's ranks) or 'off', got '",
                      o.distributed, "'");
  LOOKALIKE_CHECK_ARG(o.bucket_mb > 0 && std::isfinite(o.bucket_mb),
                      "bucket_mb must be positive, got ", o.bucket_mb);
  LOOKALIKE_CHECK_ARG(o.eval_batch_size > 0, "eval_batch_size must be positive, got ",
                      o.eval_batch_size);
  LOOKALIKE_CHECK_ARG(o.freeze_stages >= -1, "freeze_stages must be >= -1 (-1: all), got ",
                      o.freeze_stages);
  LOOKALIKE_CHECK_ARG(o.backbone_lr_factor >= 0 && std::isfinite(o.backbone_lr_factor),
                      "backbone_lr_factor must be >= 0, got ", o.backbone_lr_factor);
  LOOKALIKE_CHECK_ARG(o.head_warmup_epochs >= 0 && o.head_warmup_epochs < o.epochs,
                      "head_warmup_epochs must be in [0, epochs), got ", o.head_warmup_epochs);
  LOOKALIKE_CHECK_ARG(o.batch_norm == "auto" || o.batch_norm == "train" || o.batch_norm == "frozen",
                      "batch_norm must be 'auto', 'train' or 'frozen', got '", o.batch_norm, "'");
  LOOKALIKE_CHECK_ARG(o.sampler == "random" || o.sampler == "class_balanced",
                      "sampler must be 'random' or 'class_balanced', got '", o.sampler, "'");
  LOOKALIKE_CHECK_ARG(o.samples_per_class >= 2, "samples_per_class must be at least 2, got ",
                      o.samples_per_class);
  models::validate(o.model);
  metric::validate(o.metric);
  noisy::validate(o.filter);
  validate(o.tags);
  LOOKALIKE_CHECK_ARG(!o.resume || !o.checkpoint_dir.empty(),
                      "resume needs checkpoint_dir to name the folder of the checkpoint");
  util::parse_device(o.device);
}

std::string to_json(const TrainOptions& o) { return util::options_json(o).dump(); }

std::string to_json(const models::NetOptions& o) { return util::options_json(o).dump(); }

models::NetOptions model_options_from_json(const std::string& text) {
  return util::options_from_json_text<models::NetOptions>(text, "model");
}

namespace detail {
namespace {

void set_channels(TrainOptions& o, const data::Dataset& train) {
  const int channels = static_cast<int>(train.images.size(1));
  LOOKALIKE_CHECK_ARG(o.model.in_channels <= 0 || o.model.in_channels == channels,
                      "fit: model.in_channels = ", o.model.in_channels, " but the images have ",
                      channels, " channels (leave it 0 to take it from the images)");
  o.model.in_channels = channels;
}

void check_tag_set(const data::Dataset& set, const char* what) {
  LOOKALIKE_CHECK_ARG(
      set.images.defined() && set.images.dim() == 4 &&
          (set.images.scalar_type() == torch::kUInt8 || set.images.scalar_type() == torch::kFloat),
      what, ": images must be uint8 or float32 [N, C, H, W]");
  LOOKALIKE_CHECK_ARG(set.targets.dim() == 2 && set.targets.size(0) == set.images.size(0) &&
                          set.targets.size(1) == static_cast<int64_t>(set.tags.size()),
                      what, ": targets must be float [", set.images.size(0), ", ", set.tags.size(),
                      "] (one column per tag name), got ", set.targets.sizes());
  LOOKALIKE_CHECK_ARG(set.size() > 0, what, ": no photo");
}

// A tag set: the classifier has one output per tag; the loss is the tag heads' (tag_heads.h),
// so the single-label machinery (metric losses, noisy-label filters, class-balanced batches)
// does not apply.
TrainOptions resolved_tag_options(TrainOptions o, const data::Dataset& train,
                                  const data::Dataset& val) {
  check_tag_set(train, "fit(train)");
  if (val.size() > 0) {
    check_tag_set(val, "fit(val)");
    LOOKALIKE_CHECK_ARG(val.tags == train.tags, "fit: val has other tags than train");
    LOOKALIKE_CHECK_ARG(val.images.sizes().slice(1) == train.images.sizes().slice(1),
                        "fit: val images are ", val.images.sizes(), ", train images are ",
                        train.images.sizes(), " (C, H, W must match)");
  }
  LOOKALIKE_CHECK_ARG(o.metric.loss == "cross_entropy", "fit: a tag set trains the tag heads (",
                      "tag_loss); metric loss '", o.metric.loss, "' does not apply");
  LOOKALIKE_CHECK_ARG(o.filter.filter == "none", "fit: noisy-label filter '", o.filter.filter,
                      "' works on single labels, not on a tag set");
  LOOKALIKE_CHECK_ARG(o.sampler == "random", "fit: sampler '", o.sampler,
                      "' needs single labels; a tag set uses random batches");
  LOOKALIKE_CHECK_ARG(!train.clean_labels.defined(), "fit: clean_labels apply to single labels");
  const auto t = static_cast<int>(train.tags.size());
  LOOKALIKE_CHECK_ARG(o.model.num_classes <= 0 || o.model.num_classes == t,
                      "fit: model.num_classes = ", o.model.num_classes, " but the set has ", t,
                      " tags (leave it 0)");
  o.model.num_classes = t;
  set_channels(o, train);
  validate(o);
  return o;
}

}  // namespace

// The options fit runs with: the sets and options checked, input channels and (when not set)
// classes taken from the data.
TrainOptions resolved_options(TrainOptions o, const data::Dataset& train,
                              const data::Dataset& val) {
  if (is_tag_set(train)) return resolved_tag_options(std::move(o), train, val);
  LOOKALIKE_CHECK_ARG(is_default(o.tags),
                      "fit: the tags options apply to a tag set (targets and tag names), and "
                      "this training set has labels");
  data::check_images_labels(train.images, train.labels, "fit(train)");
  if (val.size() > 0) {
    data::check_images_labels(val.images, val.labels, "fit(val)");
    LOOKALIKE_CHECK_ARG(val.images.sizes().slice(1) == train.images.sizes().slice(1),
                        "fit: val images are ", val.images.sizes(), ", train images are ",
                        train.images.sizes(), " (C, H, W must match)");
  }
  set_channels(o, train);
  const int64_t max_label = train.labels.max().item<int64_t>();
  if (o.metric.loss != "cross_entropy") {  // the loss owns what a classifier would
    LOOKALIKE_CHECK_ARG(o.model.num_classes == 0, "fit: num_classes is the classifier's; the ",
                        o.metric.loss, " loss trains the embedding without one (leave it 0)");
    LOOKALIKE_CHECK_ARG(o.filter.filter == "none", "fit: noisy-label filter '", o.filter.filter,
                        "' works on the classifier's cross-entropy, not the ", o.metric.loss,
                        " loss");
  } else if (o.model.num_classes <= 0) {
    o.model.num_classes = static_cast<int>(max_label + 1);
  }
  LOOKALIKE_CHECK_ARG(o.metric.loss != "cross_entropy" || max_label < o.model.num_classes,
                      "fit: label ", max_label,
                      " does not fit num_classes = ", o.model.num_classes);
  validate(o);
  const int64_t n = train.size();
  if (train.clean_labels.defined()) {
    LOOKALIKE_CHECK_ARG(train.clean_labels.dim() == 1 && train.clean_labels.size(0) == n &&
                            train.clean_labels.scalar_type() == torch::kLong,
                        "fit: clean_labels must be int64 [", n, "]");
  }
  return o;
}

}  // namespace detail
}  // namespace lookalike::train
