#pragma once
// The one label encoder: string values (a class column, a duplicate-group column) to int64 codes.
// Catalogue classes (noisy study, products), duplicate groups (listings) and the image pipeline's
// attribute classes all go through it.
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::data {

struct LabelOptions {
  // "first": codes in order of first appearance; "frequency": most frequent first, ties by
  // first appearance; "sorted": lexicographic order of the values
  std::string order = "first";
  int64_t top = 0;  // only the first `top` classes in that order get a code, the rest -1; 0: all
  // an empty value: "missing" (code -1) or "own" (a class of its own per row, as a listing
  // without a group value; order "first" only, named "")
  std::string empty = "missing";
};
LOOKALIKE_OPTIONS(LabelOptions, order, top, empty)

struct EncodedLabels {
  torch::Tensor codes;             // int64 [n]: 0 .. names.size() - 1, or -1
  std::vector<std::string> names;  // the value of each code
};

/// Codes of `values` (n strings). InvalidArgument for an unknown order or empty policy, a
/// negative top, or empty "own" with another order or with top.
EncodedLabels encode_labels(const std::vector<std::string>& values,
                            const LabelOptions& options = {});

}  // namespace lookalike::data
