#pragma once
// Product listings for the duplicate-recall study: one row per offer (id, title, optional
// group, extra text, image, perceptual hash, attributes), read from CSV or JSON Lines.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::dedup {

struct ListingsOptions {
  std::string path;  // .csv, or .jsonl / .ndjson (one JSON object per line)
  std::string id_col = "id";
  std::string title_col = "title";
  std::string group_col;               // empty: no ground-truth groups
  std::vector<std::string> text_cols;  // appended to the title for text pipelines
  std::string image_col;               // column with an image file name (relative to image_root)
  std::string image_pattern;           // or a name built from the id: "{id}.jpg"
  std::string image_root;              // folder of the images; empty: the file's folder
  int image_size = 64;                 // images decoded to image_size x image_size RGB
  std::string phash_col;               // 64-bit perceptual hash, 16 hex digits
  std::vector<std::string> attr_cols;  // attributes compared by the matcher (colour, price, ...)
  std::string id_prefix;               // prepended to every id (merging two shops' tables)
  int64_t limit = 0;  // stop after `limit` rows with a title (and an image file); 0: all
  int threads = 0;    // image decoding threads (<= 0: torch's count)
  std::string bad_image = "skip";  // an unreadable image: "skip" (counted) | "error"
};
LOOKALIKE_OPTIONS(ListingsOptions, path, id_col, title_col, group_col, text_cols, image_col,
                  image_pattern, image_root, image_size, phash_col, attr_cols, id_prefix, limit,
                  threads, bad_image)

/// The rows that were kept, in file order. Rows that cannot be used are skipped and counted
/// in `skipped` by reason ("empty title", "no image file", "unreadable image", ...), never
/// dropped silently; cells with invalid UTF-8 are repaired (U+FFFD) and counted.
struct Listings {
  std::vector<std::string> ids;
  std::vector<std::string> titles;
  std::vector<std::string> texts;   // title + text_cols, space-joined
  std::vector<std::string> groups;  // raw group value ("" where none); empty without group_col
  std::vector<std::string> attr_names;
  std::vector<std::vector<std::string>> attrs;  // attrs[a][i]
  torch::Tensor images;                         // uint8 [N, 3, S, S]; undefined without images
  torch::Tensor phash;                          // uint8 [N, 8]; undefined without phash_col
  std::map<std::string, int64_t> skipped;
  int64_t repaired_utf8 = 0;  // cells whose invalid UTF-8 bytes were replaced
  std::string source;
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

/// Reads listings. Errors (InvalidArgument/FileError naming the file): missing file or column,
/// unknown extension, duplicate or empty id, a malformed phash, a JSON line that is not an
/// object, and a group column whose rows all share one group.
Listings read_listings(const ListingsOptions& options);

/// Rows of several listings one after another (same columns; ids must stay unique).
Listings concat_listings(const std::vector<Listings>& parts);

/// Replaces invalid UTF-8 sequences in `s` with U+FFFD; returns true when it changed `s`.
bool repair_utf8(std::string& s);

/// Group label per row, int64 [N] numbered 0.. by first appearance: rows with the same
/// non-empty value share a label; a row without a value is a group of its own
/// (data::encode_labels with order "first", empty "own"; no values: every row its own group).
torch::Tensor group_labels(const std::vector<std::string>& groups, int64_t n);

/// Connected components of `n` items linked by `pairs` (int64 [m, 2] of rows): the duplicate
/// groups implied by matching pairs (e.g. Amazon-Google's gold.csv). int64 [n].
torch::Tensor groups_from_pairs(int64_t n, const torch::Tensor& pairs);

/// Groups (int64 [N], as groups_from_pairs) from a CSV of matching id pairs, e.g. Amazon-Google's
/// gold.csv: row ids are prefix_a + the col_a cell and prefix_b + the col_b cell (cells trimmed).
/// A pair naming an id that `listings` lacks (a row not loaded) is counted in `missing`.
torch::Tensor groups_from_pair_file(const Listings& listings, const std::string& path,
                                    const std::string& col_a, const std::string& col_b,
                                    const std::string& prefix_a, const std::string& prefix_b,
                                    int64_t& missing);

/// Parses 16-hex-digit hashes into uint8 [N, 8] (big-endian bytes); `source` names the input
/// in errors (row and value).
torch::Tensor parse_phash(const std::vector<std::string>& hex, const std::string& source);

}  // namespace lookalike::dedup
