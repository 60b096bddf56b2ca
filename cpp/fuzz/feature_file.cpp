// Saved local features of a catalogue: local::load_local_features; the target appends the
// checksum (fuzz_target.h: append_checksum).
#include "lookalike/local/feature_file.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(feature_file, ".feat") {
  lookalike::fuzz::append_checksum(input);
  lookalike::fuzz::expect_named(input.path,
                                [&] { lookalike::local::load_local_features(input.path); });
}
