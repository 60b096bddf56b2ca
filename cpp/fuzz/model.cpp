// Saved models (options JSON + weights in a torch archive): train::load_model.
#include "fuzz_target.h"
#include "lookalike/train/trainer.h"

LOOKALIKE_FUZZ_TARGET(model, ".pt") {
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::train::load_model(input.path); });
}
