#pragma once
// Atomic file writes: content goes to a temporary file beside the target, is flushed, then
// renamed over it, so a reader sees the old file or the new one, never a half-written one.
#include <functional>
#include <string>
#include <vector>

namespace lookalike::util {

/// Writes `content` to `path` atomically; creates missing parent directories.
void write_file_atomic(const std::string& path, const std::string& content);

/// Calls `writer(tmp_path)` to produce the file, then renames it over `path`. If `writer`
/// throws, the temporary is removed and `path` is untouched.
void write_atomic_with(const std::string& path,
                       const std::function<void(const std::string&)>& writer);

/// Reads a whole file; throws FileError naming the path when it cannot be read.
std::string read_file(const std::string& path);

/// True when `path` names an existing regular file.
bool file_exists(const std::string& path);

/// True when `path` names an existing directory.
bool is_directory(const std::string& path);

/// Creates `path` and its missing parents (mkdir -p); throws FileError on failure.
void make_dirs(const std::string& path);

/// A new, empty, uniquely named directory under $TMPDIR (or /tmp) starting with `prefix`.
std::string make_temp_dir(const std::string& prefix);

/// The names in a directory (without "." and ".."); throws FileError when it cannot be read.
std::vector<std::string> list_dir(const std::string& path);

/// Joins two path parts with one '/'.
std::string join_path(const std::string& a, const std::string& b);

/// The folder part of a path ("" when it has none).
std::string parent_path(const std::string& path);

// POSIX calls rather than std::filesystem: pip-built libtorch exports std::filesystem symbols of
// another libstdc++ build, and calls that resolve to them crash (seen with torch 2.11 + GCC 13).

}  // namespace lookalike::util
