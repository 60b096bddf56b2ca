#pragma once
// A product catalogue: a CSV of items (id + attribute columns) and an image folder.
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::data {

struct CatalogOptions {
  std::string root;  // folder with `csv_name` and `image_dir`; empty: default
  std::string csv_name = "styles.csv";
  std::string image_dir = "images";
  std::string id_column = "id";
  std::vector<std::string> required_columns;  // besides id; missing ones are an error
  int image_size = 64;                        // images resized to image_size x image_size
  bool only_with_images = true;               // drop rows whose image file does not exist
  int64_t limit = 0;                // keep the first `limit` rows (after filtering); 0: all
  int threads = 0;                  // decoding threads (<= 0: current torch thread count)
  std::string bad_image = "error";  // an unreadable image: "error" | "skip" (counted)
};
LOOKALIKE_OPTIONS(CatalogOptions, root, csv_name, image_dir, id_column, required_columns,
                  image_size, only_with_images, limit, threads, bad_image)

/// Rows of a catalogue. columns[j][i] is the cell of column `names[j]` for item i
/// (empty string for an empty cell).
struct Catalog {
  std::vector<std::string> ids;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> columns;
  torch::Tensor images;  // uint8 [N, 3, S, S]; undefined when only_with_images is false
  std::vector<std::string> image_paths;
  std::map<std::string, int64_t> skipped;  // rows left out by reason ("no image file", ...)
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

/// $LOOKALIKE_DATA/fashion-products when set, else ../shared/data/fashion-products searched
/// upwards from the working directory. Empty when not found.
std::string default_catalog_root();

/// Reads `root/csv_name`, joins each row to `root/image_dir/<id>.jpg`, decodes the images
/// (OpenMP-parallel; data::decode_images, the decoding path the listings reader shares). A
/// missing CSV, a missing column, a duplicate id, or a corrupt image with bad_image "error", is
/// an error naming the file; rows without an image file (only_with_images) and, with bad_image
/// "skip", unreadable images are counted in `skipped`. `limit` counts rows with an image file.
Catalog read_catalog(const CatalogOptions& options);

}  // namespace lookalike::data
