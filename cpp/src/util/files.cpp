#include "lookalike/util/files.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lookalike/error.h"

namespace lookalike::util {
namespace fs = std::filesystem;

namespace {
std::string temp_path_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}
}  // namespace

void write_atomic_with(const std::string& path,
                       const std::function<void(const std::string&)>& writer) {
  LOOKALIKE_CHECK_ARG(!path.empty(), "write_atomic: empty output path");
  fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    LOOKALIKE_CHECK_FILE(!ec, "cannot create directory '", target.parent_path().string(),
                         "': ", ec.message());
  }
  const std::string tmp = temp_path_for(path);
  try {
    writer(tmp);
    // Flush the data to disk before the rename makes it visible.
    if (FILE* f = std::fopen(tmp.c_str(), "rb+")) {
      std::fflush(f);
      ::fsync(fileno(f));
      std::fclose(f);
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    LOOKALIKE_CHECK_FILE(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    LOOKALIKE_CHECK_FILE(out.good(), "cannot open '", tmp, "' for writing");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    LOOKALIKE_CHECK_FILE(out.good(), "write to '", tmp, "' failed (disk full?)");
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LOOKALIKE_CHECK_FILE(in.good(), "cannot open '", path, "': no such file or not readable");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

}  // namespace lookalike::util
