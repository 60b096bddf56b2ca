// IDX files (MNIST / Fashion-MNIST images and labels, gzip or plain): data::read_idx.
#include "lookalike/data/idx.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(idx, ".idx") {
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::data::read_idx(input.path); });
}
