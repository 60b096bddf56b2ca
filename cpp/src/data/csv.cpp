#include "lookalike/data/csv.h"

#include "lookalike/error.h"
#include "lookalike/util/files.h"

namespace lookalike::data {

size_t CsvTable::column(const std::string& name, const std::string& source) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  std::string have;
  for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
  throw InvalidArgument(
      detail::concat("'", source, "' has no column '", name, "' (columns: ", have, ")"));
}

CsvTable parse_csv(const std::string& text, const std::string& source) {
  CsvTable table;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_was_quoted = false;
  size_t line = 1, row_line = 1;
  size_t i = 0;
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
    i = 3;  // UTF-8 byte-order mark
  auto end_row = [&]() {
    row.push_back(std::move(field));
    field.clear();
    field_was_quoted = false;
    const bool blank = row.size() == 1 && row[0].empty();
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(row);
      } else {
        if (row.size() != table.header.size())
          throw InvalidArgument(detail::concat("'", source, "' line ", row_line, ": ", row.size(),
                                               " fields, expected ", table.header.size(),
                                               " (as in the header)"));
        table.rows.push_back(std::move(row));
      }
    }
    row.clear();
    row_line = line;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        if (field.empty() && !field_was_quoted) {
          in_quotes = field_was_quoted = true;
        } else {
          field.push_back(c);  // a stray quote inside an unquoted field is kept literally
        }
        break;
      case ',':
        row.push_back(std::move(field));
        field.clear();
        field_was_quoted = false;
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') break;  // CRLF: the LF ends the row
        ++line;
        end_row();
        break;
      case '\n':
        ++line;
        end_row();
        break;
      default:
        field.push_back(c);
    }
  }
  if (in_quotes)
    throw InvalidArgument(detail::concat("'", source, "' line ", row_line,
                                         ": quoted field is not closed before the end of file"));
  if (!field.empty() || !row.empty() || field_was_quoted) end_row();
  if (table.header.empty())
    throw InvalidArgument(detail::concat("'", source, "' is empty (no header row)"));
  return table;
}

CsvTable read_csv(const std::string& path) {
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "CSV file '", path, "' does not exist");
  return parse_csv(util::read_file(path), path);
}

}  // namespace lookalike::data
