#pragma once
// Atomic file writes: content goes to a temporary file beside the target, is flushed, then
// renamed over it, so a reader sees the old file or the new one, never a half-written one.
#include <functional>
#include <string>

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

/// Joins two path parts with one '/'.
std::string join_path(const std::string& a, const std::string& b);

}  // namespace lookalike::util
