// Product listings from CSV (id, title, group, extra text, phash, attributes):
// dedup::read_listings.
#include "fuzz_target.h"
#include "listings_options.h"

LOOKALIKE_FUZZ_TARGET(listings_csv, ".csv") {
  lookalike::fuzz::expect_named(input.path, [&] {
    lookalike::dedup::read_listings(lookalike::fuzz::listings_options(input));
  });
}
