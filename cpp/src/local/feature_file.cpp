#include "lookalike/local/feature_file.h"

#include <cstring>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/util/blob.h"

namespace lookalike::local {
namespace {

const char kMagic[] = "lookalike-local1";  // 16 bytes
static_assert(sizeof(kMagic) == 17, "the magic is 16 bytes");

std::string bytes_of(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

torch::Tensor tensor_of(const std::string& bytes, std::vector<int64_t> shape, torch::Dtype dtype,
                        const std::string& path, const char* what) {
  // The shape comes from the header: its product is bounded by the section before it can wrap.
  const size_t element = torch::elementSize(dtype);
  const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
  size_t n = empty ? 0 : 1;
  for (auto s : shape) {
    LOOKALIKE_CHECK_FILE(s >= 0 && (empty || n <= bytes.size() / element / static_cast<size_t>(s)),
                         "local feature file '", path, "': section ", what, " has ", bytes.size(),
                         " bytes, less than its header's shape ", torch::IntArrayRef(shape),
                         " implies");
    if (!empty) n *= static_cast<size_t>(s);
  }
  const size_t expected = n * element;
  LOOKALIKE_CHECK_FILE(bytes.size() == expected, "local feature file '", path, "': section ", what,
                       " has ", bytes.size(), " bytes, the header implies ", expected);
  auto t = torch::empty(shape, dtype);
  if (expected) std::memcpy(t.data_ptr(), bytes.data(), expected);
  return t;
}

}  // namespace

void save_local_features(const std::string& path, const std::vector<LocalFeatures>& features,
                         const nlohmann::json& meta) {
  const auto n = static_cast<int64_t>(features.size());
  bool binary = false;
  int64_t dim = 0;
  auto sizes = torch::empty({n, 3}, torch::kInt64);
  auto size_of = sizes.accessor<int64_t, 2>();
  std::vector<torch::Tensor> kp, desc, strength;
  for (int64_t i = 0; i < n; ++i) {
    const auto& f = features[static_cast<size_t>(i)];
    check_features(f, detail::concat("save_local_features: image ", i));
    if (i == 0) {
      binary = f.binary();
      dim = f.descriptors.size(1);
    }
    LOOKALIKE_CHECK_ARG(f.binary() == binary && f.descriptors.size(1) == dim,
                        "save_local_features: image ", i, " has ", f.binary() ? "binary" : "float",
                        " x ", f.descriptors.size(1), " descriptors, image 0 ",
                        binary ? "binary" : "float", " x ", dim, "; one file holds one kind");
    size_of[i][0] = f.size();
    size_of[i][1] = f.width;
    size_of[i][2] = f.height;
    kp.push_back(f.keypoints);
    desc.push_back(f.descriptors);
    strength.push_back(f.strength);
  }
  util::Blob blob;
  blob.header = nlohmann::json{
      {"format", 1},
      {"count", n},
      {"kind", binary ? "binary" : "float"},
      {"dim", dim},
      {"meta",
       meta}}.dump();
  blob.sections = {bytes_of(sizes), n ? bytes_of(torch::cat(kp)) : std::string(),
                   n ? bytes_of(torch::cat(desc)) : std::string(),
                   n ? bytes_of(torch::cat(strength)) : std::string()};
  util::write_blob(path, kMagic, blob);
}

FeatureFile load_local_features(const std::string& path) {
  return guard_file_read(path, "local feature file", [&] {
    const auto blob = util::read_blob(path, kMagic);
    nlohmann::json h;
    try {
      h = nlohmann::json::parse(blob.header);
    } catch (const nlohmann::json::exception& e) {
      throw FileError(
          detail::concat("local feature file '", path, "': header is not JSON (", e.what(), ")"));
    }
    auto field = [&](const char* key) -> const nlohmann::json& {
      LOOKALIKE_CHECK_FILE(h.contains(key), "local feature file '", path, "': header lacks '", key,
                           "'");
      return h[key];
    };
    LOOKALIKE_CHECK_FILE(field("format") == 1, "local feature file '", path, "': format ",
                         field("format").dump(), ", this version reads 1");
    const auto& count = field("count");
    const auto& dim = field("dim");
    const auto& kind = field("kind");
    LOOKALIKE_CHECK_FILE(count.is_number_integer() && count.get<int64_t>() >= 0 &&
                             dim.is_number_integer() && dim.get<int64_t>() >= 0 &&
                             (kind == "float" || kind == "binary") && blob.sections.size() == 4,
                         "local feature file '", path, "': malformed header ", blob.header);
    const int64_t n = count.get<int64_t>(), d = dim.get<int64_t>();
    const auto dtype = kind == "binary" ? torch::kUInt8 : torch::kFloat32;
    auto sizes = tensor_of(blob.sections[0], {n, 3}, torch::kInt64, path, "sizes");
    LOOKALIKE_CHECK_FILE(n == 0 || (sizes.min().item<int64_t>() >= 0 && d > 0),
                         "local feature file '", path, "': negative sizes or zero width");
    const int64_t total = n ? sizes.select(1, 0).sum().item<int64_t>() : 0;
    auto kp = tensor_of(blob.sections[1], {total, 4}, torch::kFloat32, path, "keypoints");
    auto desc = tensor_of(blob.sections[2], {total, d}, dtype, path, "descriptors");
    auto strength = tensor_of(blob.sections[3], {total}, torch::kFloat32, path, "strength");
    auto read_size = sizes.accessor<int64_t, 2>();
    FeatureFile out;
    out.meta = h.value("meta", nlohmann::json::object());
    int64_t from = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = read_size[i][0];
      LocalFeatures f;
      f.keypoints = kp.slice(0, from, from + k).clone();
      f.descriptors = desc.slice(0, from, from + k).clone();
      f.strength = strength.slice(0, from, from + k).clone();
      f.width = read_size[i][1];
      f.height = read_size[i][2];
      from += k;
      try {
        check_features(f, detail::concat("image ", i));
      } catch (const InvalidArgument& e) {
        throw FileError(detail::concat("local feature file '", path, "': ", e.what()));
      }
      out.features.push_back(std::move(f));
    }
    return out;
  });
}

}  // namespace lookalike::local
