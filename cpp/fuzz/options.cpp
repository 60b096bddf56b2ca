// Option JSON: what a study config (YAML) and its --set values become on their way to C++, read
// strictly into the option structs of training (then checked: train::validate), the duplicate
// study and the index. A refusal while reading must name the config ("fuzz-config").
#include "lookalike/util/options.h"
#include "fuzz_target.h"
#include "lookalike/dedup/recall_study.h"
#include "lookalike/index/vector_index.h"
#include "lookalike/train/trainer.h"

LOOKALIKE_FUZZ_TARGET(options, ".json") {
  using namespace lookalike;
  const std::string where = "fuzz-config";
  train::TrainOptions o;
  fuzz::expect_named(
      where, [&] { o = util::options_from_json_text<train::TrainOptions>(input.bytes, where); });
  // The checks of values name the option, not the config (the config's reader adds its name).
  fuzz::expect_named("", [&] { train::validate(o); });
  fuzz::expect_named(
      where, [&] { util::options_from_json_text<dedup::RecallStudyOptions>(input.bytes, where); });
  fuzz::expect_named(
      where, [&] { util::options_from_json_text<index::IndexOptions>(input.bytes, where); });
}
