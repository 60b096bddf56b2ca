// Training checkpoints (the networks, the optimizer, the filter's state, the history) as a resume
// reads them: train::detail::load_checkpoint with the options resolved and the networks built
// as a Trainer does. tests/fuzz/make_corpus.py trains with the same options to write the seed.
#include "../src/train/checkpoint.h"
#include "../src/train/networks.h"
#include "../src/train/resolve.h"
#include "fuzz_target.h"

namespace {

lookalike::train::TrainOptions checkpoint_options() {
  lookalike::train::TrainOptions o;
  o.epochs = 2;
  o.batch_size = 4;
  o.model.channels = {4};
  o.model.embedding_dim = 8;
  o.filter.filter = "coteaching";
  return o;
}

}  // namespace

LOOKALIKE_FUZZ_TARGET(checkpoint, ".pt") {
  using namespace lookalike;
  data::Dataset set;
  set.images =
      torch::arange(8 * 64, torch::kLong).remainder(251).to(torch::kUInt8).view({8, 1, 8, 8});
  set.labels = torch::arange(8, torch::kLong).remainder(4);
  const train::TrainOptions o = train::detail::resolved_options(checkpoint_options(), set, {});
  auto filter = noisy::make_filter(o.filter, set.size(), o.epochs, o.lr);
  train::detail::Networks w(set);
  w.init(o, filter->networks(), 0, torch::kCPU);
  std::vector<util::Record> history;
  fuzz::expect_named(input.path, [&] {
    train::detail::load_checkpoint(input.path, o, w.nets, w.loss.get(), *w.optimizer, *filter,
                                   history, /*world_size=*/1);
  });
}
