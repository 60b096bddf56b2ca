#include "lookalike/util/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lookalike/error.h"

namespace lookalike::util {

namespace {
std::string temp_path_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void make_dirs(const std::string& path) {
  if (path.empty() || is_directory(path)) return;
  const std::string parent = parent_path(path);
  if (!parent.empty() && parent != path) make_dirs(parent);
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
    throw FileError(detail::concat("cannot create directory '", path, "': ", std::strerror(errno)));
}

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = join_path(base && *base ? base : "/tmp", prefix + "XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  LOOKALIKE_CHECK_FILE(::mkdtemp(buf.data()) != nullptr, "cannot create a temporary directory '",
                       templ, "': ", std::strerror(errno));
  return std::string(buf.data());
}

std::vector<std::string> list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  LOOKALIKE_CHECK_FILE(dir != nullptr, "cannot list directory '", path,
                       "': ", std::strerror(errno));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string parent_path(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void write_atomic_with(const std::string& path,
                       const std::function<void(const std::string&)>& writer) {
  LOOKALIKE_CHECK_ARG(!path.empty(), "write_atomic: empty output path");
  make_dirs(parent_path(path));
  const std::string tmp = temp_path_for(path);
  try {
    writer(tmp);
    fsync_path(tmp);  // the data is on disk before the rename makes it visible
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw FileError(
          detail::concat("cannot rename '", tmp, "' to '", path, "': ", std::strerror(errno)));
  } catch (...) {
    ::unlink(tmp.c_str());
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

}  // namespace lookalike::util
