#pragma once
// Training checkpoints (private to train/): every network, the metric loss's parameters
// (proxies, class weights; `loss` may be null), the optimizer, the filter's state,
// the epochs done and the history, written atomically; a resume checks that the options that
// shape the trajectory are the same.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lookalike/models/net.h"
#include "lookalike/noisy/filter.h"
#include "lookalike/train/trainer.h"
#include "lookalike/util/json.h"

namespace lookalike::train::detail {

inline constexpr const char* kCheckpointName = "checkpoint.pt";

/// The options that shape training's trajectory, as JSON: all of them but the run-only ones.
nlohmann::ordered_json trajectory_json(const TrainOptions& o);

void save_checkpoint(const std::string& dir, const TrainOptions& o, std::vector<models::Net>& nets,
                     torch::nn::Module* loss, torch::optim::Optimizer& opt,
                     const noisy::SampleFilter& filter, int epochs_done,
                     const std::vector<util::Record>& history, int world_size);

/// Restores the state saved by save_checkpoint; returns the epochs already done. FileError when
/// the file cannot be read; InvalidArgument when it was written with other trajectory options,
/// or by another number of ranks (world_size) when the options make the trajectory depend on it
/// (data_parallel.h: world_size_dependence).
int load_checkpoint(const std::string& path, const TrainOptions& o, std::vector<models::Net>& nets,
                    torch::nn::Module* loss, torch::optim::Optimizer& opt,
                    noisy::SampleFilter& filter, std::vector<util::Record>& history,
                    int world_size);

}  // namespace lookalike::train::detail
