// Image sets from a user's CSV (path + class columns): data::read_image_set with set "csv".
#include "lookalike/data/image_set.h"
#include "fuzz_target.h"
#include "image_folder.h"

LOOKALIKE_FUZZ_TARGET(image_set, ".csv") {
  lookalike::data::ImageSetOptions o;
  o.set = "csv";
  o.root = input.path;
  o.image_root = lookalike::fuzz::image_folder();
  o.class_columns = {"class", "colour"};
  o.min_class_size = 1;
  o.image_size = 8;
  o.threads = 1;
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::data::read_image_set(o); });
}
