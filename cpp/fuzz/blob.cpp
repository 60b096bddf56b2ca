// The checksummed container of saved indexes, update logs and feature files: util::read_blob.
#include "lookalike/util/blob.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(blob, ".bin") {
  lookalike::fuzz::expect_named(input.path, [&] {
    lookalike::util::read_blob(input.path, std::string("lookalike.fuzz\0\0", 16));
  });
}
