#pragma once
// Labelled image sets for retrieval and metric learning: the named sets (grocery-store,
// fashion-products) and a user's own folder or CSV go through this one reader.
//   grocery           ../shared/data/grocery-store: dataset/<split>.txt (`path, fine id, coarse
//   id`)
//                     and the catalogue ("iconic") image of each class from classes.csv; labels
//                     are the set's own class ids, so splits and the catalogue share them.
//   fashion_products  ../shared/data/fashion-products: styles.csv + images/<id>.jpg; the class
//                     is the values of class_columns joined by "/" (articleType/baseColour).
//   folder            root/<class path>/<image>: the class is the image's folder below root.
//   csv               a CSV file with a path column (relative to image_root, default the CSV's
//                     folder) and class columns.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::data {

struct ImageSetOptions {
  std::string set = "grocery";  // "grocery" | "fashion_products" | "folder" | "csv"
  std::string root;   // grocery, fashion_products: the data folder (empty: the shared one);
                      // folder: the folder of class folders; csv: the CSV file
  std::string split;  // grocery: "train" | "val" | "test" | "iconic" (catalogue images) | ""
                      // (train + val + test)
  std::string class_level = "fine";        // grocery: "fine" (81 classes) | "coarse" (42)
  std::vector<std::string> class_columns;  // csv (default {"class"}), fashion_products (default
                                           // {"articleType", "baseColour"})
  std::string path_column = "path";        // csv
  std::string image_root;                  // csv: folder the paths are relative to
  int64_t max_per_class = 0;        // keep the first max_per_class images of each class; 0: all
  int64_t min_class_size = 1;       // classes with fewer images (after max_per_class) are left out
  int image_size = 224;             // images resized to image_size x image_size
  int threads = 0;                  // decoding threads (<= 0: torch's count)
  std::string bad_image = "error";  // an unreadable image: "error" | "skip" (counted)
};
LOOKALIKE_OPTIONS(ImageSetOptions, set, root, split, class_level, class_columns, path_column,
                  image_root, max_per_class, min_class_size, image_size, threads, bad_image)

/// images uint8 [N, 3, S, S]; labels int64 [N] in 0 .. class_names.size() - 1 (grocery: the set's
/// ids, every class named even when it has no image here; other sets: codes of the kept classes
/// in sorted order of their names); paths [N]; skipped: rows left out by reason.
struct ImageSet {
  torch::Tensor images;
  torch::Tensor labels;
  std::vector<std::string> class_names;
  std::vector<std::string> paths;
  std::map<std::string, int64_t> skipped;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

/// The sets' names, for option checks and bindings.
std::vector<std::string> image_sets();

/// Reads the set. InvalidArgument for an unknown set, an option the set does not read set away
/// from its default, a bad value; FileError naming the file for a missing root, list or image.
/// An empty result (no image left) is an error naming the set and what was left out.
ImageSet read_image_set(const ImageSetOptions& options);

}  // namespace lookalike::data
