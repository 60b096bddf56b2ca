#pragma once
// Error types of lookalike. Every message names the input and what was expected.
#include <sstream>
#include <stdexcept>
#include <string>

namespace lookalike {

/// Base of every error lookalike throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A caller passed a value of the wrong shape, dtype, range or name (Python: ValueError).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file is missing, unreadable, truncated or corrupt (Python: OSError).
class FileError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

/// Runs `read`, the parsing of the file `path` (a `what`: "model file", "checkpoint"), so that
/// whatever a corrupt file makes a library throw reaches the caller as lookalike's own error
/// naming the file: another exception (a torch archive's missing key, a pickle's parse error,
/// std::bad_alloc from a size it declares, an OpenCV assertion) becomes FileError; a lookalike
/// error keeps its type, with the file named in front when its message does not name it.
template <class Read>
auto guard_file_read(const std::string& path, const char* what, Read&& read) -> decltype(read()) {
  const auto named = [&](const std::string& message) {
    return message.find(path) != std::string::npos
               ? message
               : detail::concat("'", path, "' (", what, "): ", message);
  };
  try {
    return read();
  } catch (const FileError& e) {
    throw FileError(named(e.what()));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(named(e.what()));
  } catch (const Error& e) {
    throw Error(named(e.what()));
  } catch (const std::exception& e) {
    throw FileError(detail::concat("'", path, "' is not a readable ", what,
                                   " (corrupt, truncated or "
                                   "another format): ",
                                   e.what()));
  }
}

}  // namespace lookalike

/// Throws lookalike::InvalidArgument with the streamed message when `cond` is false.
#define LOOKALIKE_CHECK_ARG(cond, ...)                                                         \
  do {                                                                                         \
    if (!(cond)) throw ::lookalike::InvalidArgument(::lookalike::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Throws lookalike::FileError with the streamed message when `cond` is false.
#define LOOKALIKE_CHECK_FILE(cond, ...)                                                  \
  do {                                                                                   \
    if (!(cond)) throw ::lookalike::FileError(::lookalike::detail::concat(__VA_ARGS__)); \
  } while (0)
