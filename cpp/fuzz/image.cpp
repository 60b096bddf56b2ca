// Image files (JPEG, PNG, ... decoded by OpenCV, resized): data::read_image.
#include "fuzz_target.h"
#include "lookalike/data/image_io.h"

LOOKALIKE_FUZZ_TARGET(image, ".jpg") {
  lookalike::fuzz::expect_named(input.path, [&] { lookalike::data::read_image(input.path, 16); });
}
