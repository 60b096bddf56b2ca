#include "lookalike/data/image_set.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "lookalike/data/catalog.h"
#include "lookalike/data/csv.h"
#include "lookalike/data/data_dir.h"
#include "lookalike/data/image_io.h"
#include "lookalike/data/labels.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::data {

namespace {

// What a set's reader lists before the shared steps: a path and a class value per image, and
// for a set with its own class ids (grocery) the name of each id (the values are then ids).
struct Rows {
  std::vector<std::string> paths;
  std::vector<std::string> classes;
  std::vector<std::string> id_names;
  std::map<std::string, int64_t> skipped;
};

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

int64_t parse_id(const std::string& cell, const std::string& source) {
  const std::string t = trim(cell);
  LOOKALIKE_CHECK_ARG(!t.empty() && std::all_of(t.begin(), t.end(), ::isdigit), "'", source,
                      "': expected a class id (a non-negative integer), got '", cell, "'");
  return std::stoll(t);
}

// classes.csv: the name of each fine or coarse id and the catalogue image of each fine class.
Rows grocery(const std::string& base, const ImageSetOptions& o) {
  const std::string dir = util::join_path(base, "dataset");
  const std::string classes_path = util::join_path(dir, "classes.csv");
  const CsvTable classes = read_csv(classes_path);
  const bool fine = o.class_level == "fine";
  const size_t id_col =
      classes.column(fine ? "Class ID (int)" : "Coarse Class ID (int)", classes_path);
  const size_t name_col =
      classes.column(fine ? "Class Name (str)" : "Coarse Class Name (str)", classes_path);
  Rows rows;
  for (const auto& row : classes.rows) {
    const auto id = static_cast<size_t>(parse_id(row[id_col], classes_path));
    if (rows.id_names.size() <= id) rows.id_names.resize(id + 1);
    rows.id_names[id] = trim(row[name_col]);
  }
  if (o.split == "iconic") {
    const size_t path_col = classes.column("Iconic Image Path (str)", classes_path);
    for (const auto& row : classes.rows) {
      rows.paths.push_back(dir + trim(row[path_col]));  // the cell starts with '/'
      rows.classes.push_back(trim(row[id_col]));
    }
    return rows;
  }
  std::vector<std::string> splits = {o.split};
  if (o.split.empty()) splits = {"train", "val", "test"};
  for (const auto& split : splits) {
    const std::string list = util::join_path(dir, split + ".txt");
    // The lists have no header: `path, fine id, coarse id`.
    const CsvTable t = parse_csv("path,fine,coarse\n" + util::read_file(list), list);
    const size_t cls = fine ? 1 : 2;
    for (const auto& row : t.rows) {
      rows.paths.push_back(util::join_path(dir, trim(row[0])));
      const auto id = parse_id(row[cls], list);
      LOOKALIKE_CHECK_ARG(id < static_cast<int64_t>(rows.id_names.size()), "'", list,
                          "': class id ", id, " is not in '", classes_path, "'");
      rows.classes.push_back(std::to_string(id));
    }
  }
  return rows;
}

// The class of a row: the cells of its class columns joined by "/"; empty when any is empty.
std::string joined_class(const std::vector<std::string>& cells) {
  std::string value;
  for (const auto& raw : cells) {
    const std::string cell = trim(raw);
    if (cell.empty()) return {};  // any empty part: no class
    value += (value.empty() ? "" : "/") + cell;
  }
  return value;
}

Rows fashion_products(const ImageSetOptions& o, const std::vector<std::string>& class_columns) {
  CatalogOptions c;
  c.root = o.root;
  c.required_columns = class_columns;
  c.only_with_images = false;  // decoded below, after the class filters
  const Catalog cat = read_catalog(c);
  std::vector<size_t> cols;
  for (const auto& name : class_columns)
    cols.push_back(static_cast<size_t>(std::find(cat.names.begin(), cat.names.end(), name) -
                                       cat.names.begin()));
  Rows rows;
  std::vector<std::string> cells(cols.size());
  for (size_t i = 0; i < cat.ids.size(); ++i) {
    if (cat.image_paths[i].empty()) {
      ++rows.skipped["no image file"];
      continue;
    }
    for (size_t k = 0; k < cols.size(); ++k) cells[k] = cat.columns[cols[k]][i];
    rows.paths.push_back(cat.image_paths[i]);
    rows.classes.push_back(joined_class(cells));
  }
  return rows;
}

Rows csv_rows(const ImageSetOptions& o, const std::vector<std::string>& class_columns) {
  const CsvTable t = read_csv(o.root);
  const size_t path_col = t.column(o.path_column, o.root);
  std::vector<size_t> cols;
  for (const auto& name : class_columns) cols.push_back(t.column(name, o.root));
  const std::string image_root = o.image_root.empty() ? util::parent_path(o.root) : o.image_root;
  Rows rows;
  for (const auto& row : t.rows) {
    const std::string p = trim(row[path_col]);
    if (p.empty()) {
      ++rows.skipped["empty path"];
      continue;
    }
    rows.paths.push_back(p[0] == '/' ? p : util::join_path(image_root, p));
    std::vector<std::string> cells;
    for (size_t c : cols) cells.push_back(row[c]);
    rows.classes.push_back(joined_class(cells));
  }
  return rows;
}

bool is_image_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string ext = name.substr(dot + 1);
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "webp" ||
         ext == "tif" || ext == "tiff";
}

// Depth-first, names sorted: the order (and so max_per_class) does not depend on the file system.
void walk(const std::string& dir, const std::string& rel, Rows& rows) {
  auto names = util::list_dir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = util::join_path(dir, name);
    if (util::is_directory(path)) {
      walk(path, rel.empty() ? name : rel + "/" + name, rows);
    } else if (!is_image_name(name)) {
      ++rows.skipped["not an image file name"];
    } else if (rel.empty()) {
      ++rows.skipped["image outside a class folder"];
    } else {
      rows.paths.push_back(path);
      rows.classes.push_back(rel);
    }
  }
}

void check_applies(const ImageSetOptions& o) {
  const ImageSetOptions d;
  auto only = [&](bool set_away, const char* option, const char* sets) {
    LOOKALIKE_CHECK_ARG(!set_away, "image set '", o.set, "': option '", option,
                        "' applies only to ", sets);
  };
  const bool grocery = o.set == "grocery", csv = o.set == "csv";
  only(!grocery && o.split != d.split, "split", "grocery");
  only(!grocery && o.class_level != d.class_level, "class_level", "grocery");
  only((grocery || o.set == "folder") && !o.class_columns.empty(), "class_columns",
       "csv and fashion_products");
  only(!csv && o.path_column != d.path_column, "path_column", "csv");
  only(!csv && o.image_root != d.image_root, "image_root", "csv");
  if (grocery) {
    const auto& s = o.split;
    LOOKALIKE_CHECK_ARG(s.empty() || s == "train" || s == "val" || s == "test" || s == "iconic",
                        "image set 'grocery': split must be train, val, test, iconic or empty "
                        "(all photos), got '",
                        s, "'");
    LOOKALIKE_CHECK_ARG(o.class_level == "fine" || o.class_level == "coarse",
                        "image set 'grocery': class_level must be fine or coarse, got '",
                        o.class_level, "'");
  }
  LOOKALIKE_CHECK_ARG(grocery || o.set == "fashion_products" || !o.root.empty(), "image set '",
                      o.set, "' needs root (", csv ? "the CSV file" : "the folder", ")");
  LOOKALIKE_CHECK_ARG(o.image_size > 0, "image set: image_size must be positive, got ",
                      o.image_size);
  LOOKALIKE_CHECK_ARG(o.max_per_class >= 0 && o.min_class_size >= 1,
                      "image set: max_per_class must be >= 0 and min_class_size >= 1");
  check_bad_image(o.bad_image, "image set");
}

// The class filters: rows without a class, past max_per_class; then images decoded, then classes
// under min_class_size left out. Labels: the ids (grocery) or codes of the sorted class names.
ImageSet finish(Rows rows, const ImageSetOptions& o) {
  std::vector<std::string> paths, classes;
  std::unordered_map<std::string, int64_t> count;
  for (size_t i = 0; i < rows.paths.size(); ++i) {
    if (rows.classes[i].empty()) {
      ++rows.skipped["no class value"];
    } else if (o.max_per_class > 0 && count[rows.classes[i]] >= o.max_per_class) {
      ++rows.skipped["over max_per_class"];
    } else {
      ++count[rows.classes[i]];
      paths.push_back(std::move(rows.paths[i]));
      classes.push_back(std::move(rows.classes[i]));
    }
  }
  auto nothing_left = [&] {
    return ::lookalike::detail::concat("image set '", o.set, "'", o.root.empty() ? "" : " at '",
                                       o.root, o.root.empty() ? "" : "'", ": no image left (",
                                       rows.paths.size(), " listed)");
  };
  LOOKALIKE_CHECK_ARG(!paths.empty(), nothing_left());
  auto decoded = decode_images(paths, o.image_size, o.threads, o.bad_image);
  if (decoded.kept.size() < paths.size())
    rows.skipped["unreadable image"] = int64_t(paths.size() - decoded.kept.size());
  count.clear();
  for (int64_t k : decoded.kept) ++count[classes[size_t(k)]];
  std::vector<int64_t> keep;  // positions in decoded.kept
  ImageSet out;
  std::vector<std::string> kept_classes;
  for (size_t j = 0; j < decoded.kept.size(); ++j) {
    const auto k = static_cast<size_t>(decoded.kept[j]);
    if (count[classes[k]] < o.min_class_size) {
      ++rows.skipped["class smaller than min_class_size"];
      continue;
    }
    keep.push_back(static_cast<int64_t>(j));
    out.paths.push_back(paths[k]);
    kept_classes.push_back(classes[k]);
  }
  LOOKALIKE_CHECK_ARG(!keep.empty(), nothing_left());
  out.images = keep.size() == decoded.kept.size()
                   ? decoded.images
                   : decoded.images.index_select(0, torch::tensor(keep, torch::kLong));
  if (!rows.id_names.empty()) {
    std::vector<int64_t> ids;
    for (const auto& c : kept_classes) ids.push_back(std::stoll(c));
    out.labels = torch::tensor(ids, torch::kLong);
    out.class_names = std::move(rows.id_names);
  } else {
    LabelOptions sorted;
    sorted.order = "sorted";
    auto enc = encode_labels(kept_classes, sorted);
    out.labels = enc.codes;
    out.class_names = std::move(enc.names);
  }
  out.skipped = std::move(rows.skipped);
  return out;
}

}  // namespace

std::vector<std::string> image_sets() { return {"csv", "fashion_products", "folder", "grocery"}; }

ImageSet read_image_set(const ImageSetOptions& o) {
  const auto sets = image_sets();
  LOOKALIKE_CHECK_ARG(std::find(sets.begin(), sets.end(), o.set) != sets.end(),
                      "unknown image set '", o.set, "'; known: ", util::join_names(sets));
  check_applies(o);
  if (o.set == "grocery") {
    const std::string base = o.root.empty() ? shared_data_dir("grocery-store") : o.root;
    LOOKALIKE_CHECK_FILE(!base.empty(),
                         "grocery-store not found: pass root= or set LOOKALIKE_DATA to the "
                         "folder holding grocery-store/");
    return finish(grocery(base, o), o);
  }
  if (o.set == "fashion_products") {
    auto cols = o.class_columns;
    if (cols.empty()) cols = {"articleType", "baseColour"};
    return finish(fashion_products(o, cols), o);
  }
  if (o.set == "csv") {
    auto cols = o.class_columns;
    if (cols.empty()) cols = {"class"};
    // A missing or corrupt photo's error names the table that lists it too.
    return guard_file_read(o.root, "image set table", [&] { return finish(csv_rows(o, cols), o); });
  }
  LOOKALIKE_CHECK_FILE(util::is_directory(o.root), "image set 'folder': '", o.root,
                       "' is not a folder");
  Rows rows;
  walk(o.root, "", rows);
  return finish(std::move(rows), o);
}

}  // namespace lookalike::data
