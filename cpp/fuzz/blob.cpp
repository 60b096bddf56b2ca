// The checksummed container of saved indexes, update logs and feature files: util::read_blob,
// with the file's own magic when it is one of lookalike's (so mutations reach the lengths and
// the checksum), else a magic no file has.
#include "lookalike/util/blob.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(blob, ".bin") {
  static const char* const magics[] = {"LOOKALIKE-INDEX\n", "LOOKALIKE-ULOG1\n",
                                       "lookalike-local1"};
  std::string magic = "lookalike.fuzz.0";
  for (const char* m : magics)
    if (input.bytes.compare(0, 16, m) == 0) magic = m;
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::util::read_blob(input.path, magic); });
}
