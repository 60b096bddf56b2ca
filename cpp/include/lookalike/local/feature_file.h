#pragma once
// The local features of a whole catalogue in one file (util/blob.h: checksummed, written
// atomically): extract once, save, load for every query.
//
//   header: {"format": 1, "count": N, "kind": "float"|"binary", "dim": D, "meta": {...}}
//   sections: sizes int64 [N, 3] (K, width, height) | keypoints float [sum K, 4] |
//             descriptors float [sum K, D] or uint8 [sum K, D] | strength float [sum K]
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lookalike/local/features.h"

namespace lookalike::local {

struct FeatureFile {
  std::vector<LocalFeatures> features;
  nlohmann::json meta;  // what the caller stored (e.g. the LocalOptions and image paths)
};

/// Writes `features` (one kind and width for all; InvalidArgument otherwise, naming the first
/// that differs) and `meta` to `path` atomically.
void save_local_features(const std::string& path, const std::vector<LocalFeatures>& features,
                         const nlohmann::json& meta = nlohmann::json::object());

/// Reads a file save_local_features wrote. FileError naming the file when it is missing, not a
/// feature file, truncated, corrupt, or its sections disagree with its header.
FeatureFile load_local_features(const std::string& path);

}  // namespace lookalike::local
