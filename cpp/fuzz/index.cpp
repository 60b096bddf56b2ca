// Saved vector indexes (FAISS and engine stores, id maps): index::VectorIndex::load; the
// target appends the checksum (fuzz_target.h: append_checksum).
#include "fuzz_target.h"
#include "lookalike/index/vector_index.h"

LOOKALIKE_FUZZ_TARGET(index, ".index") {
  lookalike::fuzz::append_checksum(input);
  lookalike::fuzz::expect_named(input.path,
                                [&] { lookalike::index::VectorIndex::load(input.path); });
}
