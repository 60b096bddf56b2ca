// Tag tables (a CSV of image paths with a ;-list of tags, attribute columns, 0/1 indicator
// columns and titles with mined words): data::read_tag_set with set "csv".
#include "fuzz_target.h"
#include "image_folder.h"
#include "lookalike/data/tag_set.h"

LOOKALIKE_FUZZ_TARGET(tag_table, ".csv") {
  lookalike::data::TagSetOptions o;
  o.set = "csv";
  o.root = input.path;
  o.image_root = lookalike::fuzz::image_folder();
  o.tag_columns = {"colour"};
  o.indicator_columns = {"striped"};
  o.title_column = "title";
  o.title_words = {"floral", "Denim"};
  o.image_size = 8;
  o.threads = 1;
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::data::read_tag_set(o); });
}
