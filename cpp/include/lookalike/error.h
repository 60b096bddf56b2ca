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
