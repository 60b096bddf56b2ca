#include "checkpoint.h"

#include "data_parallel.h"
#include "lookalike/error.h"
#include "lookalike/util/files.h"
#include "lookalike/util/options.h"

namespace lookalike::train::detail {

namespace {
// Options that do not shape the trajectory of training: a checkpoint resumes a run whose other
// options (epochs too: the schedule depends on it; model and filter) are all the same. Every
// option not named here is compared, so a new option is compared unless it is added here.
const char* const kRunOnlyOptions[] = {
    "threads",  "device",   "mixed_precision", "checkpoint_dir", "resume",
    "log_path", "progress", "eval_batch_size", "distributed",    "bucket_mb"};

std::string net_key(size_t i) { return i == 0 ? "model" : "model_" + std::to_string(i); }
}  // namespace

nlohmann::ordered_json trajectory_json(const TrainOptions& o) {
  nlohmann::ordered_json j = util::options_json(o);
  for (const char* key : kRunOnlyOptions) j.erase(key);
  return j;
}

void save_checkpoint(const std::string& dir, const TrainOptions& o, std::vector<models::Net>& nets,
                     torch::nn::Module* loss, torch::optim::Optimizer& opt,
                     const noisy::SampleFilter& filter, int epochs_done,
                     const std::vector<util::Record>& history, int world_size) {
  const std::string path = util::join_path(dir, kCheckpointName);
  util::write_atomic_with(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    for (size_t i = 0; i < nets.size(); ++i) {
      torch::serialize::OutputArchive net_archive;
      nets[i]->save(net_archive);
      archive.write(net_key(i), net_archive);
    }
    if (loss) {
      torch::serialize::OutputArchive loss_archive;
      loss->save(loss_archive);
      archive.write("metric_loss", loss_archive);
    }
    torch::serialize::OutputArchive opt_archive, filter_archive;
    opt.save(opt_archive);
    archive.write("optimizer", opt_archive);
    for (const auto& [name, t] : filter.state()) filter_archive.write(name, t);
    archive.write("filter_state", filter_archive);
    archive.write("epochs_done", c10::IValue(static_cast<int64_t>(epochs_done)));
    archive.write("world_size", c10::IValue(static_cast<int64_t>(world_size)));
    archive.write("trajectory", c10::IValue(trajectory_json(o).dump()));
    archive.write("model_options", c10::IValue(util::options_json(o.model).dump()));
    archive.write("history", c10::IValue(util::to_json_lines(history)));
    archive.save_to(tmp);
  });
}

int load_checkpoint(const std::string& path, const TrainOptions& o, std::vector<models::Net>& nets,
                    torch::nn::Module* loss, torch::optim::Optimizer& opt,
                    noisy::SampleFilter& filter, std::vector<util::Record>& history,
                    int world_size) {
  return guard_file_read(path, "checkpoint", [&] {
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(path);
    } catch (const c10::Error& e) {
      throw FileError(::lookalike::detail::concat("checkpoint '", path,
                                                  "' cannot be read (truncated or not a "
                                                  "lookalike checkpoint)"));
    }
    c10::IValue v;
    archive.read("trajectory", v);
    const std::string saved = v.toStringRef();
    const std::string now = trajectory_json(o).dump();
    LOOKALIKE_CHECK_ARG(saved == now, "checkpoint '", path,
                        "' was written with other training options; cannot resume.\n  saved: ",
                        saved, "\n  now:   ", now);
    // Written by how many ranks (checkpoints from before data-parallel training: one).
    int64_t written_by = 1;
    if (archive.try_read("world_size", v)) written_by = v.toInt();
    const std::string depends = world_size_dependence(o);
    LOOKALIKE_CHECK_ARG(written_by == world_size || depends.empty(), "checkpoint '", path,
                        "' was written by ", written_by, " processes and this run has ", world_size,
                        ": ", depends,
                        ", so it resumes the same only with WORLD_SIZE=", written_by);
    for (size_t i = 0; i < nets.size(); ++i) {
      torch::serialize::InputArchive net_archive;
      archive.read(net_key(i), net_archive);
      nets[i]->load(net_archive);
      nets[i]->apply_memory_format();  // a checkpoint written with another layout
    }
    if (loss) {
      torch::serialize::InputArchive loss_archive;
      archive.read("metric_loss", loss_archive);
      loss->load(loss_archive);
    }
    torch::serialize::InputArchive opt_archive, filter_archive;
    archive.read("optimizer", opt_archive);
    opt.load(opt_archive);
    archive.read("filter_state", filter_archive);
    auto state = filter.state();
    for (auto& [name, t] : state) {
      filter_archive.read(name, t);
    }
    filter.load_state(state);
    archive.read("epochs_done", v);
    const int done = static_cast<int>(v.toInt());
    archive.read("history", v);
    history = util::from_json_lines(v.toStringRef());
    return done;
  });
}

}  // namespace lookalike::train::detail
