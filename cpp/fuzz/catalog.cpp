// Product catalogues (fashion-products' styles.csv layout: id + attribute columns):
// data::read_catalog, rows kept without image files.
#include "lookalike/data/catalog.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(catalog, ".csv") {
  lookalike::data::CatalogOptions o;
  o.root = lookalike::util::parent_path(input.path);
  o.csv_name = input.path.substr(o.root.size() + 1);
  o.required_columns = {"articleType", "baseColour"};
  o.only_with_images = false;
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::data::read_catalog(o); });
}
