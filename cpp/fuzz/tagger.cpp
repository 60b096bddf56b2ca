// Saved taggers (network, tags, families, thresholds): train::load_tagger.
#include "lookalike/train/tagger.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(tagger, ".pt") {
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::train::load_tagger(input.path); });
}
