#pragma once
// A checksummed binary container for the files lookalike saves (indexes, update logs):
//
//   magic (16 bytes) | u64 header length | header (JSON text) | u64 section count |
//   per section: u64 length | bytes ... | u32 CRC-32 of everything before it
//
// Written atomically (util::write_atomic_with); reading checks the magic, every length against
// the file size and the checksum, so a truncated or corrupt file is a FileError naming it, never
// a crash or a half-loaded object.
#include <string>
#include <vector>

namespace lookalike::util {

struct Blob {
  std::string header;                 // JSON text
  std::vector<std::string> sections;  // raw bytes
};

/// `magic` must be exactly 16 bytes.
void write_blob(const std::string& path, const std::string& magic, const Blob& blob);
/// Throws FileError when the file is missing, is not a `magic` file, or is truncated/corrupt.
Blob read_blob(const std::string& path, const std::string& magic);

}  // namespace lookalike::util
