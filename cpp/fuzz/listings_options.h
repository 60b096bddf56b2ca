#pragma once
// The listings options both listings targets read with: every optional column in use (groups,
// extra text, perceptual hash, attributes); images are the image target's.
#include "fuzz_target.h"
#include "lookalike/dedup/listings.h"

namespace lookalike::fuzz {

inline dedup::ListingsOptions listings_options(const Input& input) {
  dedup::ListingsOptions o;
  o.path = input.path;
  o.group_col = "group";
  o.text_cols = {"brand"};
  o.phash_col = "phash";
  o.attr_cols = {"colour", "price"};
  return o;
}

}  // namespace lookalike::fuzz
