#pragma once
// Small JSON helpers over flat records (metric dictionaries), without exposing a JSON library
// in public headers.
#include <map>
#include <string>
#include <vector>

namespace lookalike::util {

using Record = std::map<std::string, double>;

/// One record as a single-line JSON object (NaN written as null).
std::string to_json_line(const Record& record);

/// Parses the output of to_json_line (null read back as NaN).
Record from_json_line(const std::string& line);

/// Records as JSON Lines, one per line.
std::string to_json_lines(const std::vector<Record>& records);
std::vector<Record> from_json_lines(const std::string& text);

}  // namespace lookalike::util
