// CSV tables (every CSV reader goes through data::read_csv / parse_csv).
#include "lookalike/data/csv.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(csv, ".csv") {
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::data::read_csv(input.path); });
}
