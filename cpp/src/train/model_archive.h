#pragma once
// Private to train/: a network (options JSON + weights) inside a serialisation archive, shared
// by the model file (save_model) and the tagger file.
#include <string>

#include <torch/serialize.h>

#include "lookalike/models/net.h"

namespace lookalike::train::detail {

void write_net(torch::serialize::OutputArchive& archive, models::Net& net);
/// Loads `path` into `archive` and checks its "format" entry is `format`; FileError naming the
/// file (a `kind`: "model", "tagger") when it is missing, not an archive, or another format.
void open_archive(torch::serialize::InputArchive& archive, const std::string& path,
                  const char* kind, const std::string& format);
/// The network written by write_net; FileError naming `path` when the archive lacks it.
models::Net read_net(torch::serialize::InputArchive& archive, const std::string& path);

}  // namespace lookalike::train::detail
