#pragma once
// Private to train/: the options a fit runs with, checked against its data.
#include "lookalike/data/dataset.h"
#include "lookalike/train/trainer.h"

namespace lookalike::train::detail {

/// True when `train` is a tag set (targets instead of labels).
inline bool is_tag_set(const data::Dataset& set) { return set.targets.defined(); }

/// The sets and options checked; the input channels and (when not set) the classes, or the
/// tags of a tag set, taken from the data. InvalidArgument naming the first problem.
TrainOptions resolved_options(TrainOptions o, const data::Dataset& train, const data::Dataset& val);

}  // namespace lookalike::train::detail
