#include "lookalike/util/options.h"

namespace lookalike::util {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

namespace detail {
void wrong_type(const std::string& where, const char* expected, const nlohmann::json& got) {
  std::string text = got.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  throw InvalidArgument(
      ::lookalike::detail::concat("option '", where, "' must be ", expected, ", got ", text));
}
}  // namespace detail

}  // namespace lookalike::util
