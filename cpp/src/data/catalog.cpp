#include "lookalike/data/catalog.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <unordered_set>

#include "lookalike/data/csv.h"
#include "lookalike/data/data_dir.h"
#include "lookalike/data/image_io.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::data {

std::string default_catalog_root() { return shared_data_dir("fashion-products"); }

Catalog read_catalog(const CatalogOptions& options) {
  const std::string root = options.root.empty() ? default_catalog_root() : options.root;
  LOOKALIKE_CHECK_FILE(!root.empty(),
                       "product catalogue not found: pass root= or set LOOKALIKE_DATA to the "
                       "folder holding fashion-products/");
  LOOKALIKE_CHECK_ARG(options.image_size > 0, "read_catalog: image_size must be positive, got ",
                      options.image_size);
  check_bad_image(options.bad_image, "read_catalog");
  const std::string csv_path = util::join_path(root, options.csv_name);
  CsvTable table = read_csv(csv_path);
  const size_t id_col = table.column(options.id_column, csv_path);
  for (const auto& c : options.required_columns) table.column(c, csv_path);

  Catalog cat;
  cat.names = table.header;
  cat.columns.assign(table.header.size(), {});
  std::unordered_set<std::string> seen;
  const std::string image_root = util::join_path(root, options.image_dir);
  for (size_t r = 0; r < table.rows.size(); ++r) {
    auto& row = table.rows[r];
    const std::string& id = row[id_col];
    LOOKALIKE_CHECK_ARG(!id.empty(), "'", csv_path, "' data row ", r + 1, ": empty '",
                        options.id_column, "'");
    LOOKALIKE_CHECK_ARG(seen.insert(id).second, "'", csv_path, "': duplicate ", options.id_column,
                        " '", id, "'");
    std::string image_path = util::join_path(image_root, id + ".jpg");
    const bool has_image = util::file_exists(image_path);
    if (options.only_with_images && !has_image) {
      ++cat.skipped["no image file"];
      continue;
    }
    cat.ids.push_back(id);
    cat.image_paths.push_back(has_image ? image_path : std::string());
    for (size_t c = 0; c < row.size(); ++c) cat.columns[c].push_back(std::move(row[c]));
    if (options.limit > 0 && cat.size() >= options.limit) break;
  }
  if (!options.only_with_images) return cat;

  auto decoded =
      decode_images(cat.image_paths, options.image_size, options.threads, options.bad_image);
  const int64_t unreadable = cat.size() - static_cast<int64_t>(decoded.kept.size());
  if (unreadable > 0) {  // bad_image "skip": the rows go from every column
    cat.skipped["unreadable image"] = unreadable;
    auto pick = [&](std::vector<std::string>& v) {
      std::vector<std::string> w;
      for (int64_t i : decoded.kept) w.push_back(std::move(v[static_cast<size_t>(i)]));
      v = std::move(w);
    };
    pick(cat.ids), pick(cat.image_paths);
    for (auto& c : cat.columns) pick(c);
  }
  cat.images = decoded.images;
  return cat;
}

}  // namespace lookalike::data
