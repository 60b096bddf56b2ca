// Saved update logs (a day's adds and removes): index::UpdateLog::load; the target appends
// the checksum (fuzz_target.h: append_checksum).
#include "fuzz_target.h"
#include "lookalike/index/vector_index.h"

LOOKALIKE_FUZZ_TARGET(update_log, ".log") {
  lookalike::fuzz::append_checksum(input);
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::index::UpdateLog::load(input.path); });
}
