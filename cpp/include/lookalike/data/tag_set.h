#pragma once
// Multi-label image sets: each photo has any number of tags (and, where known, a box per tag).
//   clothing_co_parsing  ../shared/data/clothing-co-parsing: tags.csv (`photo, annotation,
//                        tags` with ";"-separated garment names), photos/<photo>, and boxes.csv
//                        (`photo, label_id, label, x0, y0, x1, y1, ...`, photos 0001-1004)
//   fashion_products     ../shared/data/fashion-products: styles.csv rows with a photo
//                        (images/<id>.jpg); tags from attribute columns (tag_columns, default
//                        gender, articleType, baseColour, season, usage) and words mined from the
//                        title (productDisplayName)
//   csv                  a CSV file with a path column (relative to image_root, default the
//                        CSV's folder) and any of: a tags column split at `separator`, attribute
//                        columns (tag_columns), 0/1 columns (indicator_columns), a title column
//                        with mined words; `boxes` optionally names a CSV with the same path
//                        column and `label, x0, y0, x1, y1`.
// Tag names: a tags-column entry as written; an attribute column's value as "column:value"; a
// 0/1 column as its name; a title word as "<title_family>:<word>". Tags mined from titles have
// missing positives (a title that does not say "striped" is not surely not striped): `mined`
// marks them. Boxes are pixels of the photo as stored (x1, y1 exclusive).
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
  // csv, fashion_products: attribute columns, each a family of "column:value" tags (empty cells:
  // no tag, counted); fashion_products: empty means gender, articleType, baseColour, season, usage
  std::vector<std::string> tag_columns;
  std::vector<std::string> indicator_columns;  // csv: 0/1 columns, one tag each (its name)
  std::string title_column;  // csv, fashion_products (default productDisplayName): the titles
  std::vector<std::string> title_words;  // words mined from titles (single words, any case)
  std::string title_family = "pattern";  // the family of mined tags
  int64_t min_count = 1;                 // tags on fewer photos are left out of the vocabulary
  std::vector<std::string> exclude;      // tags left out of the vocabulary (e.g. skin, hair)
  // A fixed vocabulary (empty: the tags found). A tag outside it: "error" (naming the row) or
  // "skip" (counted); its tags are the columns in the given order, even those on no photo.
  std::vector<std::string> vocabulary;
  std::string unknown_tag = "error";
  std::string untagged = "keep";    // a photo with no tag of the vocabulary: "keep" | "skip"
  int image_size = 224;             // images resized to image_size x image_size
  int threads = 0;                  // decoding threads (<= 0: torch's count)
  std::string bad_image = "error";  // an unreadable image: "error" | "skip" (counted)
};
LOOKALIKE_OPTIONS(TagSetOptions, set, root, path_column, tags_column, separator, image_root, boxes,
                  tag_columns, indicator_columns, title_column, title_words, title_family,
                  min_count, exclude, vocabulary, unknown_tag, untagged, image_size, threads,
                  bad_image)

/// images uint8 [N, 3, S, S]; sizes int64 [N, 2] (width, height as stored); targets float [N, T]
/// (1 where the photo has the tag); tags [T] sorted; counts int64 [T] (photos per tag); paths [N]
/// (files) and names [N] (the path column's values). Boxes, one row per (photo, tag) present in
/// the boxes file with a tag of the vocabulary: box_image int64 [M] (row into the photos),
/// box_tag int64 [M], boxes int64 [M, 4]. skipped: photos, box rows and tags left out, by reason;
/// untagged: photos kept with no tag. mined bool [T]: tags mined from titles. titles [N]: the
/// title column's cells when there is one.
struct TagSet {
  torch::Tensor images, sizes, targets;
  std::vector<std::string> tags;
  torch::Tensor counts, mined;
  std::vector<std::string> paths, names, titles;
  int64_t untagged = 0;
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
