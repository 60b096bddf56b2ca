#pragma once
// Multi-label image sets: each photo has any number of tags (and, where known, a box per tag).
//   clothing_co_parsing  ../shared/data/clothing-co-parsing: tags.csv (`photo, annotation,
//                        tags` with ";"-separated garment names), photos/<photo>, and boxes.csv
//                        (`photo, label_id, label, x0, y0, x1, y1, ...`, photos 0001-1004)
//   csv                  a CSV file with a path column (relative to image_root, default the
//                        CSV's folder) and a tags column split at `separator`; `boxes` optionally
//                        names a CSV with the same path column and `label, x0, y0, x1, y1`.
// Boxes are pixels of the photo as stored (x1, y1 exclusive).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::data {

struct TagSetOptions {
  std::string set = "clothing_co_parsing";  // "clothing_co_parsing" | "csv"
  std::string root;                  // clothing_co_parsing: the data folder (empty: the shared
                                     // one); csv: the CSV file
  std::string path_column = "path";  // csv
  std::string tags_column = "tags";  // csv
  std::string separator = ";";       // csv
  std::string image_root;            // csv: folder the paths are relative to
  std::string boxes;                 // csv: a boxes CSV (empty: none)
  int64_t min_count = 1;             // tags on fewer photos are left out of the vocabulary
  std::vector<std::string> exclude;  // tags left out of the vocabulary (e.g. skin, hair)
  int image_size = 224;              // images resized to image_size x image_size
  int threads = 0;                   // decoding threads (<= 0: torch's count)
  std::string bad_image = "error";   // an unreadable image: "error" | "skip" (counted)
};
LOOKALIKE_OPTIONS(TagSetOptions, set, root, path_column, tags_column, separator, image_root, boxes,
                  min_count, exclude, image_size, threads, bad_image)

/// images uint8 [N, 3, S, S]; sizes int64 [N, 2] (width, height as stored); targets float [N, T]
/// (1 where the photo has the tag); tags [T] sorted; counts int64 [T] (photos per tag); paths [N]
/// (files) and names [N] (the path column's values). Boxes, one row per (photo, tag) present in
/// the boxes file with a tag of the vocabulary: box_image int64 [M] (row into the photos),
/// box_tag int64 [M], boxes int64 [M, 4]. skipped: photos and box rows left out, by reason.
struct TagSet {
  torch::Tensor images, sizes, targets;
  std::vector<std::string> tags;
  torch::Tensor counts;
  std::vector<std::string> paths, names;
  torch::Tensor box_image, box_tag, boxes;
  std::map<std::string, int64_t> skipped;
  int64_t size() const { return targets.defined() ? targets.size(0) : 0; }
};

/// The sets' names.
std::vector<std::string> tag_sets();

/// Reads the set. InvalidArgument for an unknown set, an option the set does not read set away
/// from its default, a bad value, a box outside its photo (naming the file and row); FileError
/// naming the file for a missing CSV, column or image. No photo or no tag left is an error.
TagSet read_tag_set(const TagSetOptions& options);

}  // namespace lookalike::data
