#include "lookalike/util/blob.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>

#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::util {

namespace {
constexpr size_t kMagicSize = 16;

struct Crc {
  uLong value = crc32(0L, Z_NULL, 0);
  void update(const char* p, size_t n) {
    while (n > 0) {  // zlib takes uInt lengths
      const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      value = crc32(value, reinterpret_cast<const Bytef*>(p), chunk);
      p += chunk;
      n -= chunk;
    }
  }
};

void put(std::ofstream& out, Crc& crc, const char* p, size_t n) {
  out.write(p, static_cast<std::streamsize>(n));
  crc.update(p, n);
}

void put_u64(std::ofstream& out, Crc& crc, uint64_t v) {
  put(out, crc, reinterpret_cast<const char*>(&v), sizeof v);
}
}  // namespace

void write_blob(const std::string& path, const std::string& magic, const Blob& blob) {
  LOOKALIKE_CHECK_ARG(magic.size() == kMagicSize, "write_blob: magic must be 16 bytes");
  write_atomic_with(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    LOOKALIKE_CHECK_FILE(out.good(), "cannot open '", tmp, "' for writing");
    Crc crc;
    put(out, crc, magic.data(), magic.size());
    put_u64(out, crc, blob.header.size());
    put(out, crc, blob.header.data(), blob.header.size());
    put_u64(out, crc, blob.sections.size());
    for (const auto& s : blob.sections) {
      put_u64(out, crc, s.size());
      put(out, crc, s.data(), s.size());
    }
    const uint32_t sum = static_cast<uint32_t>(crc.value);
    out.write(reinterpret_cast<const char*>(&sum), sizeof sum);
    out.flush();
    LOOKALIKE_CHECK_FILE(out.good(), "writing '", tmp, "' failed (disk full?)");
  });
}

Blob read_blob(const std::string& path, const std::string& magic) {
  const std::string data = read_file(path);
  size_t pos = 0;
  auto need = [&](size_t n, const char* what) {
    LOOKALIKE_CHECK_FILE(n <= data.size() && pos <= data.size() - n, "'", path,
                         "' is truncated or corrupt (", what, " runs past the end of the file at ",
                         data.size(), " bytes)");
  };
  auto get_u64 = [&](const char* what) {
    need(sizeof(uint64_t), what);
    uint64_t v;
    std::memcpy(&v, data.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  };
  LOOKALIKE_CHECK_FILE(data.size() >= kMagicSize && data.compare(0, kMagicSize, magic) == 0, "'",
                       path, "' is not a ", magic.substr(0, magic.find('\n')), " file");
  pos = kMagicSize;
  Blob blob;
  const uint64_t header_len = get_u64("header length");
  need(header_len, "header");
  blob.header = data.substr(pos, header_len);
  pos += header_len;
  const uint64_t count = get_u64("section count");
  LOOKALIKE_CHECK_FILE(count < (1u << 20), "'", path, "' is corrupt (", count, " sections)");
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t len = get_u64("section length");
    need(len, "section");
    blob.sections.push_back(data.substr(pos, len));
    pos += len;
  }
  need(sizeof(uint32_t), "checksum");
  Crc crc;
  crc.update(data.data(), pos);
  uint32_t stored;
  std::memcpy(&stored, data.data() + pos, sizeof stored);
  LOOKALIKE_CHECK_FILE(stored == static_cast<uint32_t>(crc.value), "'", path,
                       "' is corrupt (checksum mismatch)");
  LOOKALIKE_CHECK_FILE(pos + sizeof stored == data.size(), "'", path,
                       "' has trailing bytes after its checksum");
  return blob;
}

}  // namespace lookalike::util
