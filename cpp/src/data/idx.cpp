#include "lookalike/data/idx.h"

#include <zlib.h>

#include <cstdlib>
#include <vector>

#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::data {

namespace {
// Reads the whole file, gunzipping when it starts with the gzip magic.
std::vector<uint8_t> read_maybe_gz(const std::string& path) {
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "IDX file '", path, "' does not exist");
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently too
  LOOKALIKE_CHECK_FILE(f != nullptr, "cannot open IDX file '", path, "'");
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  while (true) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(f, &code);
      gzclose(f);
      throw FileError(detail::concat("IDX file '", path, "' is corrupt (gzip: ", msg, ")"));
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    std::string m = msg;
    gzclose(f);
    throw FileError(detail::concat("IDX file '", path, "' is corrupt (gzip: ", m, ")"));
  }
  const int rc = gzclose(f);
  LOOKALIKE_CHECK_FILE(rc == Z_OK, "IDX file '", path,
                       "' is corrupt or truncated (gzip stream did not end cleanly)");
  return out;
}
}  // namespace

torch::Tensor read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_maybe_gz(path);
  LOOKALIKE_CHECK_FILE(bytes.size() >= 4, "IDX file '", path, "' is too short (", bytes.size(),
                       " bytes) to hold a header");
  LOOKALIKE_CHECK_FILE(bytes[0] == 0 && bytes[1] == 0, "'", path,
                       "' is not an IDX file (magic must start with two zero bytes)");
  LOOKALIKE_CHECK_FILE(bytes[2] == 0x08, "IDX file '", path, "' holds element type 0x", std::hex,
                       int(bytes[2]), "; expected unsigned bytes (0x08)");
  const int ndim = bytes[3];
  LOOKALIKE_CHECK_FILE(ndim >= 1 && ndim <= 4, "IDX file '", path, "' declares ", ndim,
                       " dimensions; expected 1 to 4");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  LOOKALIKE_CHECK_FILE(bytes.size() >= header, "IDX file '", path, "' is truncated in its header");
  std::vector<int64_t> dims;
  const size_t have = bytes.size() - header;
  size_t count = 1;
  for (int d = 0; d < ndim; ++d) {
    const uint8_t* p = bytes.data() + 4 + 4 * d;
    const int64_t v = (int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) | p[3];
    dims.push_back(v);
    // The product of up to 255 sizes of 32 bits would wrap: stop once it passes the file.
    LOOKALIKE_CHECK_FILE(v == 0 || count <= have / static_cast<size_t>(v), "IDX file '", path,
                         "' is truncated: its header promises more values than its ", have,
                         " bytes");
    count *= static_cast<size_t>(v);
  }
  LOOKALIKE_CHECK_FILE(have >= count, "IDX file '", path, "' is truncated: header promises ", count,
                       " values, file holds ", have);
  LOOKALIKE_CHECK_FILE(have == count, "IDX file '", path, "' has ", have - count,
                       " trailing bytes after its ", count, " values");
  auto t = torch::empty(dims, torch::kUInt8);
  if (count > 0) std::memcpy(t.data_ptr<uint8_t>(), bytes.data() + header, count);
  return t;
}

std::string default_fashion_mnist_root() {
  if (const char* env = std::getenv("LOOKALIKE_FASHION_MNIST"); env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

Dataset fashion_mnist(const std::string& split, const std::string& root_in) {
  LOOKALIKE_CHECK_ARG(split == "train" || split == "test",
                      "fashion_mnist: split must be 'train' or 'test', got '", split, "'");
  const std::string root = root_in.empty() ? default_fashion_mnist_root() : root_in;
  const std::string prefix = split == "train" ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    const std::string gz = util::join_path(root, stem + ".gz");
    if (util::file_exists(gz)) return gz;
    const std::string raw = util::join_path(root, stem);
    if (util::file_exists(raw)) return raw;
    throw FileError(detail::concat("Fashion-MNIST file '", gz, "' not found (nor '", raw,
                                   "'); install dataset-fashion-mnist or pass root="));
  };
  const std::string image_path = find(prefix + "-images-idx3-ubyte");
  const std::string label_path = find(prefix + "-labels-idx1-ubyte");
  torch::Tensor images = read_idx(image_path);
  torch::Tensor labels = read_idx(label_path);
  LOOKALIKE_CHECK_FILE(images.dim() == 3, "'", image_path, "' must hold [N, H, W] images, got ",
                       images.sizes());
  LOOKALIKE_CHECK_FILE(labels.dim() == 1, "'", label_path, "' must hold [N] labels, got ",
                       labels.sizes());
  LOOKALIKE_CHECK_FILE(images.size(0) == labels.size(0), "'", image_path, "' holds ",
                       images.size(0), " images but '", label_path, "' holds ", labels.size(0),
                       " labels");
  LOOKALIKE_CHECK_FILE(labels.max().item<int>() <= 9, "'", label_path,
                       "' holds labels above 9; expected Fashion-MNIST classes 0..9");
  return {images.unsqueeze(1), labels.to(torch::kLong)};
}

}  // namespace lookalike::data
