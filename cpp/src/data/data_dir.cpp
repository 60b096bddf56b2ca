#include "lookalike/data/data_dir.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>

#include "lookalike/util/files.h"

namespace lookalike::data {

namespace {
// ../shared/data/<name> or shared/data/<name> in `dir` or a folder above it; empty if none.
std::string search_upwards(std::string dir, const std::string& name) {
  while (!dir.empty()) {
    for (const std::string rel : {"../shared/data/", "shared/data/"}) {
      const std::string candidate = util::join_path(dir, rel + name);
      if (util::is_directory(candidate)) {
        char real[PATH_MAX];
        return ::realpath(candidate.c_str(), real) ? std::string(real) : candidate;
      }
    }
    const std::string parent = util::parent_path(dir);
    if (parent == dir) break;
    dir = parent;
  }
  return {};
}
}  // namespace

std::string shared_data_dir(const std::string& name, const std::vector<std::string>& starts) {
  if (const char* env = std::getenv("LOOKALIKE_DATA"); env && *env)
    return util::join_path(env, name);
  char buf[PATH_MAX];
  std::vector<std::string> dirs;
  if (::getcwd(buf, sizeof buf) != nullptr) dirs.emplace_back(buf);
  dirs.insert(dirs.end(), starts.begin(), starts.end());
  for (const auto& d : dirs)
    if (auto found = search_upwards(d, name); !found.empty()) return found;
  return {};
}

}  // namespace lookalike::data
