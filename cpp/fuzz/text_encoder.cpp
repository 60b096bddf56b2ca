// Saved text encoders of the duplicate pipelines: dedup::TextEncoder::load.
#include "fuzz_target.h"
#include "lookalike/dedup/text.h"

LOOKALIKE_FUZZ_TARGET(text_encoder, ".pt") {
  lookalike::fuzz::expect_named(input.path,
                                [&] { lookalike::dedup::TextEncoder::load(input.path); });
}
