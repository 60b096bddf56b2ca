// Pretrained weights other frameworks write (TFLite FlatBuffer, Keras HDF5, PyTorch state_dict;
// the format told by content): models::load_pretrained into a small ConvNet.
#include "lookalike/models/pretrained.h"
#include "fuzz_target.h"

LOOKALIKE_FUZZ_TARGET(pretrained, ".weights") {
  using namespace lookalike;
  models::NetOptions o;
  o.channels = {4};
  o.in_channels = 3;
  o.embedding_dim = 0;
  o.num_classes = 2;
  models::Net net(o);
  fuzz::expect_named(input.path, [&] { models::load_pretrained(*net, input.path); });
}
