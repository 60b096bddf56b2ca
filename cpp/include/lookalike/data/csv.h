#pragma once
// RFC 4180 CSV: quoted fields, doubled quotes, embedded commas and newlines, CRLF or LF.
#include <string>
#include <vector>

namespace lookalike::data {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each row has header.size() fields

  /// Index of `column` in the header; throws InvalidArgument naming `source` and the columns
  /// present when it is absent.
  size_t column(const std::string& column, const std::string& source) const;
};

/// Parses CSV text. `source` names it in errors (unterminated quote, a row whose field count
/// differs from the header's, with its line number).
CsvTable parse_csv(const std::string& text, const std::string& source);

/// Reads and parses a CSV file; throws FileError when it cannot be read.
CsvTable read_csv(const std::string& path);

}  // namespace lookalike::data
