#include "lookalike/dedup/listings.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "lookalike/data/csv.h"
#include "lookalike/data/image_io.h"
#include "lookalike/data/labels.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "lookalike/util/union_find.h"

namespace lookalike::dedup {

bool repair_utf8(std::string& s) {
  // Each maximal ill-formed subpart becomes one U+FFFD (Unicode's recommended practice, the
  // same as Python's bytes.decode("utf-8", "replace")). Well-formed sequences per Table 3-7.
  static const char kReplacement[] = "\xEF\xBF\xBD";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  auto second_ok = [](unsigned char lead, unsigned char b) {
    if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;  // no overlong 3-byte forms
    if (lead == 0xED) return b >= 0x80 && b <= 0x9F;  // no surrogates
    if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;  // no overlong 4-byte forms
    if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;  // nothing past U+10FFFF
    return (b & 0xC0) == 0x80;
  };
  std::string out;
  bool changed = false;
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = c < 0x80                 ? 1
                 : c >= 0xC2 && c <= 0xDF ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    size_t good = len == 0 ? 0 : 1;  // bytes of the sequence that are well-formed so far
    while (good > 0 && good < len && i + good < n &&
           (good == 1 ? second_ok(c, p[i + 1]) : (p[i + good] & 0xC0) == 0x80))
      ++good;
    if (len > 0 && good == len) {
      if (changed) out.append(s, i, len);
      i += len;
      continue;
    }
    if (!changed) out.assign(s, 0, i), changed = true;
    out += kReplacement;
    i += std::max<size_t>(good, 1);
  }
  if (changed) s = std::move(out);
  return changed;
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads a JSON Lines file into the CSV table shape: the header is the union of the keys in
// order of first appearance; a missing key is an empty cell; scalars become their text.
data::CsvTable read_jsonl(const std::string& path) {
  std::ifstream in(path);
  LOOKALIKE_CHECK_FILE(in.good(), "cannot read listings file '", path, "'");
  data::CsvTable t;
  std::unordered_map<std::string, size_t> col;
  std::vector<nlohmann::json> objects;
  std::string line;
  for (int64_t ln = 1; std::getline(in, line); ++ln) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    repair_utf8(line);  // nlohmann rejects invalid UTF-8; cells are repaired (and counted) later
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument(
          detail::concat("'", path, "' line ", ln, ": not JSON (", e.what(), ")"));
    }
    LOOKALIKE_CHECK_ARG(j.is_object(), "'", path, "' line ", ln, ": expected a JSON object, got ",
                        j.type_name());
    for (auto it = j.begin(); it != j.end(); ++it)
      if (col.emplace(it.key(), t.header.size()).second) t.header.push_back(it.key());
    objects.push_back(std::move(j));
  }
  for (auto& j : objects) {
    std::vector<std::string> row(t.header.size());
    for (auto it = j.begin(); it != j.end(); ++it) {
      const auto& v = it.value();
      row[col[it.key()]] = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

namespace {
// The rows of a .csv or a JSON Lines file as one table.
data::CsvTable read_table(const std::string& path) {
  if (ends_with(path, ".csv")) return data::read_csv(path);
  if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")) return read_jsonl(path);
  throw InvalidArgument(
      detail::concat("listings file '", path, "': expected a .csv, .jsonl or .ndjson file"));
}

// Decodes the rows' images (uint8 [N, 3, S, S]); with bad_image "skip" rows whose image cannot be
// read are dropped from every column and counted in skipped, with "error" they are a FileError.
void decode_images(Listings& out, const std::vector<std::string>& image_paths,
                   const ListingsOptions& o) {
  const int64_t n = out.size();
  auto decoded = data::decode_images(image_paths, o.image_size, o.threads, o.bad_image);
  const auto& keep = decoded.kept;
  if (static_cast<int64_t>(keep.size()) < n) {
    out.skipped["unreadable image"] += n - static_cast<int64_t>(keep.size());
    auto pick = [&](auto& v) {
      std::decay_t<decltype(v)> w;
      w.reserve(keep.size());
      for (int64_t i : keep) w.push_back(std::move(v[static_cast<size_t>(i)]));
      v = std::move(w);
    };
    pick(out.ids), pick(out.titles), pick(out.texts);
    if (!out.groups.empty()) pick(out.groups);
    for (auto& a : out.attrs) pick(a);
    if (out.phash.defined())
      out.phash = out.phash.index_select(0, torch::tensor(keep, torch::kLong));
  }
  out.images = decoded.images;
}

// A group column with one value for every row is a mistake (no duplicate study possible); rows
// without a value are counted (each is a group of its own).
void check_groups(Listings& out, const ListingsOptions& o) {
  std::unordered_set<std::string> distinct;
  int64_t valued = 0;
  for (const auto& g : out.groups)
    if (!g.empty()) distinct.insert(g), ++valued;
  LOOKALIKE_CHECK_ARG(!(distinct.size() == 1 && valued == out.size() && out.size() > 1),
                      "listings file '", o.path, "': group column '", o.group_col,
                      "' has a single group ('", *distinct.begin(), "') for all ", out.size(),
                      " rows; a duplicate study needs items of different groups");
  const int64_t missing = out.size() - valued;
  if (missing > 0) out.skipped["no group value (kept as its own group)"] = missing;
}
}  // namespace

Listings read_listings(const ListingsOptions& o) {
  const std::string& path = o.path;
  LOOKALIKE_CHECK_ARG(!path.empty(), "read_listings: no path given");
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "listings file '", path, "' does not exist");
  LOOKALIKE_CHECK_ARG(o.image_size > 0, "read_listings: image_size must be positive");
  LOOKALIKE_CHECK_ARG(o.image_col.empty() || o.image_pattern.empty(),
                      "read_listings: give image_col or image_pattern, not both");
  data::check_bad_image(o.bad_image, "read_listings");
  data::CsvTable t = read_table(path);
  const size_t id_c = t.column(o.id_col, path);
  const size_t title_c = t.column(o.title_col, path);
  const bool has_group = !o.group_col.empty();
  const size_t group_c = has_group ? t.column(o.group_col, path) : 0;
  std::vector<size_t> text_c, attr_c;
  for (const auto& c : o.text_cols) text_c.push_back(t.column(c, path));
  for (const auto& c : o.attr_cols) attr_c.push_back(t.column(c, path));
  const bool has_image = !o.image_col.empty() || !o.image_pattern.empty();
  const size_t image_c = o.image_col.empty() ? 0 : t.column(o.image_col, path);
  const bool has_phash = !o.phash_col.empty();
  const size_t phash_c = has_phash ? t.column(o.phash_col, path) : 0;
  LOOKALIKE_CHECK_ARG(!has_image || data::have_image_io(),
                      "read_listings: images asked for but this build has no OpenCV");
  const std::string image_root = !o.image_root.empty() ? o.image_root : util::parent_path(path);

  Listings out;
  out.source = path;
  out.attr_names = o.attr_cols;
  out.attrs.assign(attr_c.size(), {});
  std::vector<std::string> phash_hex, image_paths;
  std::unordered_set<std::string> seen;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    auto& row = t.rows[r];
    for (auto& cell : row) out.repaired_utf8 += repair_utf8(cell);
    const std::string id = trim(row[id_c]);
    LOOKALIKE_CHECK_ARG(!id.empty(), "'", path, "' data row ", r + 1, ": empty '", o.id_col, "'");
    LOOKALIKE_CHECK_ARG(seen.insert(id).second, "'", path, "': duplicate ", o.id_col, " '", id,
                        "' (data row ", r + 1, ")");
    std::string title = trim(row[title_c]);
    if (title.empty()) {
      ++out.skipped["empty title"];
      continue;
    }
    if (has_image) {
      std::string name = row.size() > image_c && !o.image_col.empty() ? trim(row[image_c]) : "";
      if (!o.image_pattern.empty()) {
        name = o.image_pattern;
        const auto at = name.find("{id}");
        LOOKALIKE_CHECK_ARG(at != std::string::npos, "image_pattern '", o.image_pattern,
                            "' must contain {id}");
        name.replace(at, 4, id);
      }
      const std::string file = name.empty() ? "" : util::join_path(image_root, name);
      if (file.empty() || !util::file_exists(file)) {
        ++out.skipped["no image file"];
        continue;
      }
      image_paths.push_back(file);
    }
    out.ids.push_back(o.id_prefix + id);
    std::string text = title;
    for (size_t c : text_c) {
      const std::string v = trim(row[c]);
      if (!v.empty()) text += " " + v;
    }
    out.titles.push_back(std::move(title));
    out.texts.push_back(std::move(text));
    if (has_group) out.groups.push_back(trim(row[group_c]));
    for (size_t a = 0; a < attr_c.size(); ++a) out.attrs[a].push_back(trim(row[attr_c[a]]));
    if (has_phash) phash_hex.push_back(trim(row[phash_c]));
    if (o.limit > 0 && out.size() >= o.limit) break;
  }
  if (has_phash) out.phash = parse_phash(phash_hex, path + " column '" + o.phash_col + "'");

  if (has_image) decode_images(out, image_paths, o);
  LOOKALIKE_CHECK_ARG(out.size() > 0, "listings file '", path, "': no usable rows (", t.rows.size(),
                      " rows read)");
  if (has_group) check_groups(out, o);
  return out;
}

Listings concat_listings(const std::vector<Listings>& parts) {
  LOOKALIKE_CHECK_ARG(!parts.empty(), "concat_listings: no parts");
  Listings out;
  out.attr_names = parts[0].attr_names;
  out.attrs.assign(out.attr_names.size(), {});
  std::vector<torch::Tensor> images, phash;
  std::unordered_set<std::string> seen;
  const bool groups = !parts[0].groups.empty();
  for (const auto& p : parts) {
    LOOKALIKE_CHECK_ARG(p.attr_names == out.attr_names && !p.groups.empty() == groups &&
                            p.images.defined() == parts[0].images.defined() &&
                            p.phash.defined() == parts[0].phash.defined(),
                        "concat_listings: '", p.source, "' has other columns than '",
                        parts[0].source, "'");
    for (const auto& id : p.ids)
      LOOKALIKE_CHECK_ARG(seen.insert(id).second, "concat_listings: id '", id,
                          "' occurs in two parts (give each part an id_prefix)");
    out.ids.insert(out.ids.end(), p.ids.begin(), p.ids.end());
    out.titles.insert(out.titles.end(), p.titles.begin(), p.titles.end());
    out.texts.insert(out.texts.end(), p.texts.begin(), p.texts.end());
    out.groups.insert(out.groups.end(), p.groups.begin(), p.groups.end());
    for (size_t a = 0; a < p.attrs.size(); ++a)
      out.attrs[a].insert(out.attrs[a].end(), p.attrs[a].begin(), p.attrs[a].end());
    if (p.images.defined()) images.push_back(p.images);
    if (p.phash.defined()) phash.push_back(p.phash);
    for (const auto& [k, v] : p.skipped) out.skipped[k] += v;
    out.repaired_utf8 += p.repaired_utf8;
    out.source += (out.source.empty() ? "" : " + ") + p.source;
  }
  if (!images.empty()) out.images = torch::cat(images);
  if (!phash.empty()) out.phash = torch::cat(phash);
  return out;
}

torch::Tensor group_labels(const std::vector<std::string>& groups, int64_t n) {
  LOOKALIKE_CHECK_ARG(groups.empty() || static_cast<int64_t>(groups.size()) == n,
                      "group_labels: ", groups.size(), " group values for ", n, " rows");
  if (groups.empty()) return torch::arange(n, torch::kLong);
  data::LabelOptions o;
  o.order = "first";
  o.empty = "own";
  return data::encode_labels(groups, o).codes;
}

torch::Tensor groups_from_pair_file(const Listings& listings, const std::string& path,
                                    const std::string& col_a, const std::string& col_b,
                                    const std::string& prefix_a, const std::string& prefix_b,
                                    int64_t& missing) {
  const data::CsvTable table = data::read_csv(path);
  const size_t a = table.column(col_a, path), b = table.column(col_b, path);
  std::unordered_map<std::string, int64_t> row;
  for (int64_t i = 0; i < listings.size(); ++i)
    row.emplace(listings.ids[static_cast<size_t>(i)], i);
  auto trim = [](const std::string& v) {
    const auto first = v.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return std::string();
    return v.substr(first, v.find_last_not_of(" \t\r\n") - first + 1);
  };
  std::vector<int64_t> pairs;
  missing = 0;
  for (const auto& r : table.rows) {
    const auto ra = row.find(prefix_a + trim(r[a])), rb = row.find(prefix_b + trim(r[b]));
    if (ra == row.end() || rb == row.end()) {
      ++missing;
      continue;
    }
    pairs.push_back(ra->second);
    pairs.push_back(rb->second);
  }
  auto t = torch::tensor(pairs, torch::kLong).view({-1, 2});
  return groups_from_pairs(listings.size(), t);
}

torch::Tensor groups_from_pairs(int64_t n, const torch::Tensor& pairs) {
  LOOKALIKE_CHECK_ARG(n > 0, "groups_from_pairs: n must be positive");
  LOOKALIKE_CHECK_ARG(pairs.dim() == 2 && pairs.size(1) == 2 && pairs.scalar_type() == torch::kLong,
                      "groups_from_pairs: pairs must be int64 [m, 2], got ", pairs.sizes(), " ",
                      pairs.scalar_type());
  auto p = pairs.contiguous();
  const int64_t* d = p.data_ptr<int64_t>();
  util::UnionFind uf(n);
  for (int64_t e = 0; e < p.size(0); ++e) {
    const int64_t a = d[2 * e], b = d[2 * e + 1];
    LOOKALIKE_CHECK_ARG(a >= 0 && a < n && b >= 0 && b < n, "groups_from_pairs: pair ", e, " (", a,
                        ", ", b, ") outside [0, ", n, ")");
    uf.unite(a, b);
  }
  return torch::tensor(uf.labels(), torch::kLong);
}

torch::Tensor parse_phash(const std::vector<std::string>& hex, const std::string& source) {
  const int64_t n = static_cast<int64_t>(hex.size());
  auto out = torch::empty({n, 8}, torch::kUInt8);
  uint8_t* o = out.data_ptr<uint8_t>();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (int64_t i = 0; i < n; ++i) {
    const std::string& h = hex[static_cast<size_t>(i)];
    bool ok = h.size() == 16;
    for (int b = 0; ok && b < 8; ++b) {
      const int hi = nibble(h[2 * b]), lo = nibble(h[2 * b + 1]);
      ok = hi >= 0 && lo >= 0;
      if (ok) o[i * 8 + b] = static_cast<uint8_t>(hi << 4 | lo);
    }
    LOOKALIKE_CHECK_ARG(ok, source, " row ", i + 1, ": perceptual hash '", h,
                        "' is not 16 hex digits (64 bits)");
  }
  return out;
}

}  // namespace lookalike::dedup
