#include "lookalike/util/json.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lookalike/error.h"

namespace lookalike::util {

std::string to_json_line(const Record& record) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : record) {
    if (std::isfinite(v)) {
      j[k] = v;
    } else {
      j[k] = nullptr;
    }
  }
  return j.dump();
}

Record from_json_line(const std::string& line) {
  Record r;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(detail::concat("not a JSON record: ", e.what()));
  }
  LOOKALIKE_CHECK_ARG(j.is_object(), "JSON record must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    r[it.key()] = it->is_null() ? std::numeric_limits<double>::quiet_NaN() : it->get<double>();
  }
  return r;
}

std::string to_json_lines(const std::vector<Record>& records) {
  std::string out;
  for (const auto& r : records) out += to_json_line(r) + "\n";
  return out;
}

std::vector<Record> from_json_lines(const std::string& text) {
  std::vector<Record> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(from_json_line(line));
  return out;
}

}  // namespace lookalike::util
