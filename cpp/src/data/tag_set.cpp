#include "lookalike/data/tag_set.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <torch/torch.h>

#include "lookalike/data/csv.h"
#include "lookalike/data/data_dir.h"
#include "lookalike/data/image_io.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::data {
namespace {

// Where a set's files are and how its columns are named.
struct Layout {
  std::string table, path_column, tags_column, separator, image_root, boxes;
};

void check_applies(const TagSetOptions& o) {
  const TagSetOptions d;
  const bool csv = o.set == "csv";
  auto only_csv = [&](bool set_away, const char* option) {
    LOOKALIKE_CHECK_ARG(!set_away, "tag set '", o.set, "': option '", option,
                        "' applies only to csv");
  };
  only_csv(!csv && o.path_column != d.path_column, "path_column");
  only_csv(!csv && o.tags_column != d.tags_column, "tags_column");
  only_csv(!csv && o.separator != d.separator, "separator");
  only_csv(!csv && o.image_root != d.image_root, "image_root");
  only_csv(!csv && o.boxes != d.boxes, "boxes");
  LOOKALIKE_CHECK_ARG(!csv || !o.root.empty(), "tag set 'csv' needs root (the CSV file)");
  LOOKALIKE_CHECK_ARG(!o.separator.empty(), "tag set: separator must not be empty");
  LOOKALIKE_CHECK_ARG(o.min_count >= 1, "tag set: min_count must be >= 1, got ", o.min_count);
  LOOKALIKE_CHECK_ARG(o.image_size > 0, "tag set: image_size must be positive, got ", o.image_size);
  check_bad_image(o.bad_image, "tag set");
}

Layout layout_of(const TagSetOptions& o) {
  if (o.set == "csv") {
    const auto root = o.image_root.empty() ? util::parent_path(o.root) : o.image_root;
    return {o.root, o.path_column, o.tags_column, o.separator, root, o.boxes};
  }
  const std::string base = o.root.empty() ? shared_data_dir("clothing-co-parsing") : o.root;
  LOOKALIKE_CHECK_FILE(!base.empty(),
                       "clothing-co-parsing not found: pass root= or set LOOKALIKE_DATA to the "
                       "folder holding clothing-co-parsing/");
  return {util::join_path(base, "tags.csv"), "photo", "tags", ";", util::join_path(base, "photos"),
          util::join_path(base, "boxes.csv")};
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

std::vector<std::string> tag_sets() { return {"clothing_co_parsing", "csv"}; }

TagSet read_tag_set(const TagSetOptions& o) {
  const auto sets = tag_sets();
  LOOKALIKE_CHECK_ARG(std::find(sets.begin(), sets.end(), o.set) != sets.end(), "unknown tag set '",
                      o.set, "'; known: ", util::join_names(sets));
  check_applies(o);
  const auto l = layout_of(o);
  const auto table = read_csv(l.table);
  const size_t pc = table.column(l.path_column, l.table), tc = table.column(l.tags_column, l.table);
  std::vector<std::string> names, paths;
  std::vector<std::vector<std::string>> tags;
  TagSet out;
  for (const auto& row : table.rows) {
    if (trim(row[pc]).empty()) {
      ++out.skipped["row without a path"];
      continue;
    }
    names.push_back(row[pc]);
    paths.push_back(util::join_path(l.image_root, row[pc]));
    tags.push_back(split_tags(row[tc], l.separator));
  }
  auto decoded = decode_images(paths, o.image_size, o.threads, o.bad_image);
  if (decoded.kept.size() < paths.size())
    out.skipped["unreadable image"] += static_cast<int64_t>(paths.size() - decoded.kept.size());
  LOOKALIKE_CHECK_ARG(!decoded.kept.empty(), "tag set '", o.set, "' (", l.table,
                      "): no photo left");
  std::map<std::string, int64_t> count;
  for (auto i : decoded.kept)
    for (const auto& t : tags[static_cast<size_t>(i)]) ++count[t];
  const std::set<std::string> excluded(o.exclude.begin(), o.exclude.end());
  std::unordered_map<std::string, int64_t> tag_of;
  std::vector<int64_t> counts;
  for (const auto& [tag, c] : count) {
    if (c < o.min_count || excluded.count(tag)) continue;
    tag_of[tag] = static_cast<int64_t>(out.tags.size());
    out.tags.push_back(tag);
    counts.push_back(c);
  }
  LOOKALIKE_CHECK_ARG(!out.tags.empty(), "tag set '", o.set, "' (", l.table,
                      "): no tag left (min_count ", o.min_count, ", ", excluded.size(),
                      " excluded)");
  const auto n = static_cast<int64_t>(decoded.kept.size());
  out.images = decoded.images;
  out.sizes = decoded.sizes;
  out.counts = torch::tensor(counts, torch::kLong);
  out.targets = torch::zeros({n, static_cast<int64_t>(out.tags.size())}, torch::kFloat);
  std::unordered_map<std::string, int64_t> photo_of;
  auto target = out.targets.accessor<float, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto i = static_cast<size_t>(decoded.kept[static_cast<size_t>(r)]);
    out.names.push_back(names[i]);
    out.paths.push_back(paths[i]);
    photo_of[names[i]] = r;
    for (const auto& t : tags[i]) {
      const auto it = tag_of.find(t);
      if (it != tag_of.end()) target[r][it->second] = 1.0f;
    }
  }
  if (!l.boxes.empty()) read_boxes(l, photo_of, tag_of, out);
  return out;
}

}  // namespace lookalike::data
