#include "lookalike/data/tag_set.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <torch/torch.h>

#include "lookalike/data/csv.h"
#include "lookalike/data/data_dir.h"
#include "lookalike/data/image_io.h"
#include "lookalike/dedup/text.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::data {
namespace {

// Where a set's files are and how its columns are named.
struct Layout {
  std::string table, path_column, path_suffix, tags_column, separator, image_root, boxes;
  std::vector<std::string> tag_columns, indicator_columns;
  std::string title_column;
  bool skip_missing_files = false;  // rows without a photo file are counted, not errors
};

const std::vector<std::string> kFashionColumns = {"gender", "articleType", "baseColour", "season",
                                                  "usage"};

void check_applies(const TagSetOptions& o) {
  const TagSetOptions d;
  const bool csv = o.set == "csv", fashion = o.set == "fashion_products";
  auto only = [&](bool allowed, bool set_away, const char* option, const char* sets) {
    LOOKALIKE_CHECK_ARG(allowed || !set_away, "tag set '", o.set, "': option '", option,
                        "' applies only to ", sets);
  };
  only(csv, o.path_column != d.path_column, "path_column", "csv");
  only(csv, o.tags_column != d.tags_column, "tags_column", "csv");
  only(csv, o.separator != d.separator, "separator", "csv");
  only(csv, o.image_root != d.image_root, "image_root", "csv");
  only(csv, o.boxes != d.boxes, "boxes", "csv");
  only(csv, !o.indicator_columns.empty(), "indicator_columns", "csv");
  only(csv || fashion, !o.tag_columns.empty(), "tag_columns", "csv and fashion_products");
  only(csv || fashion, !o.title_column.empty(), "title_column", "csv and fashion_products");
  only(fashion || !o.title_column.empty(), !o.title_words.empty(), "title_words",
       "sets with a title column (fashion_products, or csv with title_column)");
  LOOKALIKE_CHECK_ARG(!csv || !o.root.empty(), "tag set 'csv' needs root (the CSV file)");
  LOOKALIKE_CHECK_ARG(!o.separator.empty(), "tag set: separator must not be empty");
  LOOKALIKE_CHECK_ARG(!o.title_family.empty() && o.title_family.find(':') == std::string::npos,
                      "tag set: title_family must be a non-empty name without ':'");
  LOOKALIKE_CHECK_ARG(o.min_count >= 1, "tag set: min_count must be >= 1, got ", o.min_count);
  LOOKALIKE_CHECK_ARG(o.image_size > 0, "tag set: image_size must be positive, got ", o.image_size);
  LOOKALIKE_CHECK_ARG(o.unknown_tag == "error" || o.unknown_tag == "skip",
                      "tag set: unknown_tag must be 'error' or 'skip', got '", o.unknown_tag, "'");
  LOOKALIKE_CHECK_ARG(o.untagged == "keep" || o.untagged == "skip",
                      "tag set: untagged must be 'keep' or 'skip', got '", o.untagged, "'");
  LOOKALIKE_CHECK_ARG(o.vocabulary.empty() || (o.min_count == 1 && o.exclude.empty()),
                      "tag set: a fixed vocabulary replaces min_count and exclude");
  for (const auto& w : o.title_words)
    LOOKALIKE_CHECK_ARG(dedup::tokenize(w).size() == 1, "tag set: title word '", w,
                        "' must be one word (letters and digits)");
  check_bad_image(o.bad_image, "tag set");
}

std::string base_folder(const TagSetOptions& o, const char* folder) {
  const std::string base = o.root.empty() ? shared_data_dir(folder) : o.root;
  LOOKALIKE_CHECK_FILE(!base.empty(), folder,
                       " not found: pass root= or set LOOKALIKE_DATA to the ", "folder holding ",
                       folder, "/");
  return base;
}

Layout layout_of(const TagSetOptions& o) {
  Layout l;
  if (o.set == "csv") {
    const auto root = o.image_root.empty() ? util::parent_path(o.root) : o.image_root;
    l = {o.root,         o.path_column, "",
         o.tags_column,  o.separator,   root,
         o.boxes,        o.tag_columns, o.indicator_columns,
         o.title_column, false};
  } else if (o.set == "fashion_products") {
    const auto base = base_folder(o, "fashion-products");
    l = {util::join_path(base, "styles.csv"),
         "id",
         ".jpg",
         "",
         ";",
         util::join_path(base, "images"),
         "",
         o.tag_columns.empty() ? kFashionColumns : o.tag_columns,
         {},
         o.title_column.empty() ? "productDisplayName" : o.title_column,
         true};
  } else {
    const auto base = base_folder(o, "clothing-co-parsing");
    l = {util::join_path(base, "tags.csv"),
         "photo",
         "",
         "tags",
         ";",
         util::join_path(base, "photos"),
         util::join_path(base, "boxes.csv"),
         {},
         {},
         "",
         false};
  }
  return l;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split_tags(const std::string& field, const std::string& separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const auto end = field.find(separator, start);
    auto tag = trim(field.substr(start, end == std::string::npos ? end : end - start));
    if (!tag.empty()) out.push_back(std::move(tag));
    if (end == std::string::npos) break;
    start = end + separator.size();
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int64_t parse_int(const std::string& s, const std::string& file, size_t line, const char* column) {
  try {
    size_t used = 0;
    const auto v = std::stoll(s, &used);
    if (trim(s.substr(used)).empty()) return v;
  } catch (const std::exception&) {
  }
  throw InvalidArgument(detail::concat("boxes file '", file, "' row ", line, ": ", column,
                                       " is not an integer: '", s, "'"));
}

// The boxes file's rows for photos and tags of the set; a box outside its photo is an error.
void read_boxes(const Layout& l, const std::unordered_map<std::string, int64_t>& photo_of,
                const std::unordered_map<std::string, int64_t>& tag_of, TagSet& out) {
  const auto table = read_csv(l.boxes);
  const size_t p = table.column(l.path_column, l.boxes), t = table.column("label", l.boxes);
  const size_t c[4] = {table.column("x0", l.boxes), table.column("y0", l.boxes),
                       table.column("x1", l.boxes), table.column("y1", l.boxes)};
  const char* names[4] = {"x0", "y0", "x1", "y1"};
  std::vector<int64_t> image, tag, boxes;
  const auto sizes = out.sizes.accessor<int64_t, 2>();
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    const auto photo = photo_of.find(row[p]);
    if (photo == photo_of.end()) {
      ++out.skipped["box of a photo not in the set"];
      continue;
    }
    const auto label = tag_of.find(trim(row[t]));
    if (label == tag_of.end()) {
      ++out.skipped["box of a tag not in the vocabulary"];
      continue;
    }
    int64_t b[4];
    for (int k = 0; k < 4; ++k) b[k] = parse_int(row[c[k]], l.boxes, r + 2, names[k]);
    const int64_t w = sizes[photo->second][0], h = sizes[photo->second][1];
    LOOKALIKE_CHECK_ARG(
        b[0] >= 0 && b[1] >= 0 && b[0] <= b[2] && b[1] <= b[3] && b[2] <= w && b[3] <= h,
        "boxes file '", l.boxes, "' row ", r + 2, ": box (", b[0], ", ", b[1], ", ", b[2], ", ",
        b[3], ") is not inside photo '", row[p], "' (", w, "x", h, ")");
    image.push_back(photo->second);
    tag.push_back(label->second);
    boxes.insert(boxes.end(), b, b + 4);
  }
  const auto m = static_cast<int64_t>(image.size());
  out.box_image = torch::tensor(image, torch::kLong);
  out.box_tag = torch::tensor(tag, torch::kLong);
  out.boxes = torch::tensor(boxes, torch::kLong).view({m, 4});
}

}  // namespace

std::vector<std::string> tag_sets() { return {"clothing_co_parsing", "csv", "fashion_products"}; }

namespace {

// The rows of the table: each photo's file, name, title and tags from every source the layout
// names (mined: the tag names that came from titles).
struct Rows {
  std::vector<std::string> names, paths, titles;
  std::vector<std::vector<std::string>> tags;
  std::set<std::string> mined;
};

size_t optional_column(const CsvTable& t, const std::string& name, const std::string& file) {
  return name.empty() ? std::string::npos : t.column(name, file);
}

std::vector<std::string> row_tags(const Layout& l, const TagSetOptions& o, const CsvTable& t,
                                  const std::vector<std::string>& row, size_t line, Rows& rows,
                                  std::map<std::string, int64_t>& skipped) {
  std::vector<std::string> tags;
  const size_t tc = optional_column(t, l.tags_column, l.table);
  if (tc != std::string::npos) tags = split_tags(row[tc], l.separator);
  for (const auto& name : l.tag_columns) {
    const auto value = trim(row[t.column(name, l.table)]);
    if (value.empty())
      ++skipped["empty " + name + " cell"];
    else
      tags.push_back(name + ":" + value);
  }
  for (const auto& name : l.indicator_columns) {
    const auto value = trim(row[t.column(name, l.table)]);
    LOOKALIKE_CHECK_ARG(value.empty() || value == "0" || value == "1", "'", l.table, "' row ", line,
                        ": column '", name, "' must be 0 or 1, got '", value, "'");
    if (value == "1") tags.push_back(name);
  }
  const size_t title = optional_column(t, l.title_column, l.table);
  if (title != std::string::npos && !o.title_words.empty()) {
    const auto words = dedup::tokenize(row[title]);
    const std::set<std::string> present(words.begin(), words.end());
    for (const auto& w : o.title_words) {
      const auto word = dedup::tokenize(w)[0];
      if (!present.count(word)) continue;
      tags.push_back(o.title_family + ":" + word);
      rows.mined.insert(tags.back());
    }
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

Rows read_rows(const Layout& l, const TagSetOptions& o, std::map<std::string, int64_t>& skipped) {
  const auto table = read_csv(l.table);
  const size_t pc = table.column(l.path_column, l.table);
  const size_t title = optional_column(table, l.title_column, l.table);
  Rows rows;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    const auto name = trim(row[pc]);
    if (name.empty()) {
      ++skipped["row without a path"];
      continue;
    }
    const auto path = util::join_path(l.image_root, name + l.path_suffix);
    if (l.skip_missing_files && !util::file_exists(path)) {
      ++skipped["no image file"];
      continue;
    }
    rows.names.push_back(row[pc]);
    rows.paths.push_back(path);
    if (title != std::string::npos) rows.titles.push_back(row[title]);
    rows.tags.push_back(row_tags(l, o, table, row, r + 2, rows, skipped));
  }
  return rows;
}

// The vocabulary: the fixed one, or the tags on at least min_count kept photos, not excluded.
std::vector<std::string> vocabulary_of(const TagSetOptions& o, const Rows& rows,
                                       const std::vector<int64_t>& kept) {
  if (!o.vocabulary.empty()) {
    std::set<std::string> seen;
    for (const auto& t : o.vocabulary)
      LOOKALIKE_CHECK_ARG(seen.insert(t).second, "tag set: vocabulary lists '", t, "' twice");
    return o.vocabulary;
  }
  std::map<std::string, int64_t> count;
  for (auto i : kept)
    for (const auto& t : rows.tags[static_cast<size_t>(i)]) ++count[t];
  const std::set<std::string> excluded(o.exclude.begin(), o.exclude.end());
  std::vector<std::string> out;
  for (const auto& [tag, c] : count)
    if (c >= o.min_count && !excluded.count(tag)) out.push_back(tag);
  return out;
}

// Keeps the photos whose row `keep` marks (the untagged ones left out).
void keep_rows(TagSet& out, const torch::Tensor& keep) {
  const auto index = keep.nonzero().view({-1});
  out.images = out.images.index_select(0, index);
  out.sizes = out.sizes.index_select(0, index);
  out.targets = out.targets.index_select(0, index);
  std::vector<std::string> names, paths, titles;
  for (int64_t i :
       std::vector<int64_t>(index.data_ptr<int64_t>(), index.data_ptr<int64_t>() + index.size(0))) {
    names.push_back(out.names[static_cast<size_t>(i)]);
    paths.push_back(out.paths[static_cast<size_t>(i)]);
    if (!out.titles.empty()) titles.push_back(out.titles[static_cast<size_t>(i)]);
  }
  out.names = std::move(names), out.paths = std::move(paths), out.titles = std::move(titles);
}

// Targets, counts and mined flags of the kept photos under the vocabulary; unknown tags and
// untagged photos handled as the options say.
void fill_targets(const TagSetOptions& o, const Rows& rows, const std::vector<int64_t>& kept,
                  const std::unordered_map<std::string, int64_t>& tag_of, TagSet& out) {
  const auto n = static_cast<int64_t>(kept.size()), k = static_cast<int64_t>(out.tags.size());
  out.targets = torch::zeros({n, k}, torch::kFloat);
  auto target = out.targets.accessor<float, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto i = static_cast<size_t>(kept[static_cast<size_t>(r)]);
    out.names.push_back(rows.names[i]);
    out.paths.push_back(rows.paths[i]);
    if (!rows.titles.empty()) out.titles.push_back(rows.titles[i]);
    for (const auto& t : rows.tags[i]) {
      const auto it = tag_of.find(t);
      if (it != tag_of.end()) {
        target[r][it->second] = 1.0f;
      } else if (!o.vocabulary.empty()) {
        LOOKALIKE_CHECK_ARG(o.unknown_tag == "skip", "tag set: photo '", rows.names[i],
                            "' has tag '", t,
                            "', which is not in the vocabulary (unknown_tag: "
                            "skip counts such tags instead)");
        ++out.skipped["tag not in the vocabulary"];
      }
    }
  }
  const auto tagged = out.targets.sum(1) > 0;
  out.untagged = n - tagged.sum().item<int64_t>();
  if (o.untagged == "skip" && out.untagged > 0) {
    out.skipped["photo without a tag"] += out.untagged;
    out.untagged = 0;
    keep_rows(out, tagged);
    LOOKALIKE_CHECK_ARG(out.size() > 0, "tag set '", o.set, "': no photo has a tag");
  }
  out.counts = out.targets.sum(0).to(torch::kLong);
  out.mined = torch::zeros({k}, torch::kBool);
  for (int64_t t = 0; t < k; ++t)
    out.mined[t] = rows.mined.count(out.tags[static_cast<size_t>(t)]) > 0;
}

}  // namespace

TagSet read_tag_set(const TagSetOptions& o) {
  const auto sets = tag_sets();
  LOOKALIKE_CHECK_ARG(std::find(sets.begin(), sets.end(), o.set) != sets.end(), "unknown tag set '",
                      o.set, "'; known: ", util::join_names(sets));
  check_applies(o);
  const auto l = layout_of(o);
  TagSet out;
  const Rows rows = read_rows(l, o, out.skipped);
  LOOKALIKE_CHECK_ARG(!rows.paths.empty(), "tag set '", o.set, "' (", l.table, "): no photo");
  // A missing or corrupt photo's error names the table that lists it too.
  auto decoded = guard_file_read(l.table, "tag table", [&] {
    return decode_images(rows.paths, o.image_size, o.threads, o.bad_image);
  });
  if (decoded.kept.size() < rows.paths.size())
    out.skipped["unreadable image"] +=
        static_cast<int64_t>(rows.paths.size() - decoded.kept.size());
  LOOKALIKE_CHECK_ARG(!decoded.kept.empty(), "tag set '", o.set, "' (", l.table,
                      "): no photo left");
  out.tags = vocabulary_of(o, rows, decoded.kept);
  LOOKALIKE_CHECK_ARG(!out.tags.empty(), "tag set '", o.set, "' (", l.table,
                      "): no tag left (min_count ", o.min_count, ", ", o.exclude.size(),
                      " excluded)");
  std::unordered_map<std::string, int64_t> tag_of;
  for (size_t t = 0; t < out.tags.size(); ++t) tag_of[out.tags[t]] = static_cast<int64_t>(t);
  out.images = decoded.images;
  out.sizes = decoded.sizes;
  fill_targets(o, rows, decoded.kept, tag_of, out);
  if (!l.boxes.empty()) {
    std::unordered_map<std::string, int64_t> photo_of;
    for (size_t r = 0; r < out.names.size(); ++r) photo_of[out.names[r]] = static_cast<int64_t>(r);
    read_boxes(l, photo_of, tag_of, out);
  }
  return out;
}

}  // namespace lookalike::data
