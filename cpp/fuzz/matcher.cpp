// Saved duplicate matchers (JSON): dedup::load_matcher.
#include "lookalike/dedup/matcher.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(matcher, ".json") {
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::dedup::load_matcher(input.path); });
}
