#include "lookalike/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "checkpoint.h"
#include "data_parallel.h"
#include "lookalike/data/loader.h"
#include "lookalike/error.h"
#include "lookalike/eval/average_precision.h"
#include "lookalike/eval/retrieval.h"
#include "lookalike/models/embed.h"
#include "lookalike/noisy/confident.h"
#include "lookalike/train/cross_val.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/device.h"
#include "lookalike/util/files.h"
#include "lookalike/util/rng.h"
#include "lookalike/util/threads.h"
#include "model_archive.h"
#include "networks.h"
#include "progress.h"
#include "resolve.h"

namespace lookalike::train {

namespace {
using detail::Clock;
using detail::DataParallel;
using detail::kCheckpointName;
using detail::load_checkpoint;
using detail::Networks;
using detail::Progress;
using detail::save_checkpoint;

// Learning rate at fractional epoch t (0 <= t <= epochs).
double lr_at(const TrainOptions& o, double t) {
  double lr = o.lr;
  if (o.schedule == "cosine") {
    lr = 0.5 * o.lr * (1.0 + std::cos(M_PI * std::min(t / o.epochs, 1.0)));
  } else if (o.schedule == "step") {
    lr = o.lr * std::pow(o.gamma, std::floor(t / o.step_size));
  }
  if (o.warmup_epochs > 0 && t < o.warmup_epochs) {
    const double w = t / o.warmup_epochs;
    lr *= 0.1 + 0.9 * w;
  }
  return lr;
}

// Turns bf16 autocast on for CUDA for the lifetime of the guard.
class CudaAutocast {
 public:
  explicit CudaAutocast(bool on) : on_(on) {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
  }
  ~CudaAutocast() {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    at::autocast::set_enabled(false);
#endif
    at::autocast::clear_cache();
  }

 private:
  bool on_;
};

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  LOOKALIKE_CHECK_FILE(out.good(), "cannot append to metrics log '", path, "'");
  out << line << '\n';
}

}  // namespace

Trainer::Trainer(TrainOptions options) : options_(std::move(options)) {}

util::Record evaluate_tags(models::Net& model, const data::Dataset& set, const TagHeads& heads,
                           int64_t batch_size, const std::string& device) {
  LOOKALIKE_CHECK_ARG(model->classifier() && model->classifier()->weight.size(0) == heads.size(),
                      "evaluate: the network needs one output per tag (", heads.size(), ")");
  heads.check_targets(set.targets, "evaluate targets");
  auto out = models::infer(model, set.images, batch_size, device, /*with_logits=*/true);
  const auto targets = set.targets.to(torch::kFloat);
  const double loss = heads.loss(out.logits, targets).item<double>();
  const auto m =
      eval::mean_average_precision(heads.probabilities(out.logits), targets, heads.known(targets));
  return {{"loss", loss}, {"map_macro", m.at("macro")}, {"map_micro", m.at("micro")}};
}

util::Record evaluate(models::Net& model, const data::Dataset& set, int64_t batch_size,
                      const std::string& device, const TagHeadOptions& tags) {
  if (detail::is_tag_set(set)) {
    return evaluate_tags(model, set, TagHeads(set.tags, tags, set.targets, "evaluate targets"),
                         batch_size, device);
  }
  LOOKALIKE_CHECK_ARG(is_default(tags), "evaluate: tags options apply to a tag set (targets)");
  data::check_images_labels(set.images, set.labels, "evaluate");
  if (!model->classifier()) {
    auto out = models::infer(model, set.images, batch_size, device);
    eval::RetrievalOptions ro;
    ro.metrics = {"precision_at_1", "r_precision", "map_at_r"};
    auto m = eval::retrieval_metrics(out.embeddings, set.labels, {}, {}, ro);
    return {{"precision_at_1", m.at("precision_at_1")},
            {"r_precision", m.at("r_precision")},
            {"map_at_r", m.at("map_at_r")}};
  }
  auto out = models::infer(model, set.images, batch_size, device, /*with_logits=*/true);
  const double loss = torch::nn::functional::cross_entropy(out.logits, set.labels).item<double>();
  const double acc = out.logits.argmax(1).eq(set.labels).to(torch::kDouble).mean().item<double>();
  return {{"loss", loss}, {"accuracy", acc}};
}

namespace {

// confident_learning: the label issues found by K-fold cross-training before training starts
// (bool [n]) and the seconds it took. A resumed run takes the flagged set from its checkpoint.
// In a data-parallel run rank 0 cross-trains and the others receive its flags.
std::pair<torch::Tensor, double> detect_issues(const TrainOptions& o, const data::Dataset& train,
                                               bool resuming, DataParallel& dp) {
  if (o.filter.filter != "confident_learning") return {torch::Tensor(), 0.0};
  if (resuming) return {torch::zeros({train.size()}, torch::kBool), 0.0};
  const char* what = "confident learning's flagged samples";
  if (!dp.root()) return {dp.from_root(torch::zeros({0}, torch::kBool), what), 0.0};
  const auto t0 = Clock::now();
  TrainOptions fold = o;
  fold.distributed = "off";  // the folds train in rank 0 alone
  fold.filter = noisy::FilterOptions{};
  fold.epochs = o.filter.cl_epochs > 0 ? o.filter.cl_epochs : std::max(1, o.epochs / 2);
  fold.progress = "off";  // cross_val_pred_probs drops checkpoints, resume and the log itself
  auto probs = cross_val_pred_probs(train, o.filter.cl_folds, fold, o.seed);
  auto issues = noisy::find_label_issues(train.labels, probs, o.filter.cl_filter_by);
  dp.from_root(issues, what);
  return {issues, std::chrono::duration<double>(Clock::now() - t0).count()};
}

// What one epoch needs besides the networks and the filter.
struct EpochContext {
  const TrainOptions& o;
  const data::Dataset& train;
  data::LoaderOptions loader;
  torch::Device device;
  bool amp;
  int64_t batches_per_epoch;
  torch::Tensor clean_cpu;  // int64 [n] on the CPU, or undefined
  Progress& progress;
  const TagHeads* heads;  // a tag set's heads, or null
  torch::Tensor targets;  // a tag set's float [n, T] on the CPU
  DataParallel& dp;       // this rank's share of each batch and the gradients' all-reduce
};

// One batch's loss: cross-entropy of every network's logits through the filter (kept: the
// samples it used, logits: the first network's), or the metric loss of the embedding (all
// kept, logits undefined).
torch::Tensor batch_loss(const EpochContext& c, Networks& w, noisy::SampleFilter& filter,
                         const torch::Tensor& x, const torch::Tensor& y, const data::Batch& batch,
                         int epoch, torch::Tensor& kept, torch::Tensor& logits) {
  CudaAutocast autocast(c.amp);
  if (c.heads) {  // a tag set: every sample counts, no accuracy
    kept = torch::ones({y.size(0)}, torch::kBool);
    const auto targets = c.targets.index_select(0, batch.indices).to(c.device, true);
    return c.heads->loss(w.nets[0]->forward(x).logits.to(torch::kFloat), targets);
  }
  if (w.loss) {
    kept = torch::ones({y.size(0)}, torch::kBool);
    return w.metric_loss(w.nets[0]->forward(x).embedding.to(torch::kFloat), y);
  }
  std::vector<torch::Tensor> all;
  for (auto& net : w.nets) all.push_back(net->forward(x).logits.to(torch::kFloat));
  logits = all[0];
  return filter.batch_loss(all, y, batch.indices, epoch, kept);
}

// One epoch of training; its record (loss, accuracy, kept share, label precision, timing).
util::Record run_epoch(const EpochContext& c, int epoch, Networks& w, noisy::SampleFilter& filter) {
  const TrainOptions& o = c.o;
  const int64_t n = c.train.size();
  const bool know_clean = c.clean_cpu.defined();
  // Everything random in epoch e is a function of (seed, e): resuming repeats it exactly.
  torch::manual_seed(util::mix_seed(o.seed, 1000003ULL + static_cast<uint64_t>(epoch)));
  w.begin_epoch(o, epoch);
  data::EpochLoader loader(c.train.images, c.train.labels, c.loader, epoch);
  const auto t0 = Clock::now();
  double loss_sum = 0.0;
  int64_t correct = 0, seen = 0, batch_index = 0, kept_n = 0, kept_clean = 0, clean_seen = 0;
  while (auto batch = loader.next()) {
    const int64_t bs = batch->labels.size(0);
    ++batch_index;
    // Batch norm needs two samples on every rank (decided alike by all, from the global size).
    if (batch->global_size / c.dp.size() < 2) continue;
    const double t = epoch + double(batch_index - 1) / c.batches_per_epoch;
    w.set_lr(filter.lr(epoch, t, lr_at(o, t)));
    auto x = batch->images.to(c.device, /*non_blocking=*/true);
    auto y = batch->labels.to(c.device, /*non_blocking=*/true);
    torch::Tensor kept, logits;
    auto loss = batch_loss(c, w, filter, x, y, *batch, epoch, kept, logits);
    w.optimizer->zero_grad();
    // A rank's mean over its rows, weighted by its share: the sum over ranks is the batch's mean.
    if (c.dp.on())
      (loss * (double(bs) / double(batch->global_size))).backward();
    else
      loss.backward();
    c.dp.sum_gradients(*w.optimizer);
    w.optimizer->step();
    const double l = loss.item<double>();
    LOOKALIKE_CHECK_ARG(std::isfinite(l), "training diverged: loss is ", l, " at epoch ", epoch + 1,
                        " batch ", batch_index, " (lower lr?)");
    loss_sum += l * bs;
    if (logits.defined()) correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    seen += bs;
    auto kept_cpu = kept.cpu();
    kept_n += kept_cpu.sum().item<int64_t>();
    if (know_clean) {
      auto right = c.clean_cpu.index_select(0, batch->indices).eq(batch->labels);
      clean_seen += right.sum().item<int64_t>();
      kept_clean += right.logical_and(kept_cpu).sum().item<int64_t>();
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const double rate = seen / std::max(elapsed, 1e-9);
    const double eta = (double(n - seen) + double(o.epochs - epoch - 1) * n) / std::max(rate, 1e-9);
    c.progress.update(epoch + 1, o.epochs, batch_index, loader.num_batches(), rate, loss_sum / seen,
                      eta);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // The epoch's counts over every rank's rows.
  std::vector<double> sums{loss_sum,       double(correct),    double(seen),
                           double(kept_n), double(kept_clean), double(clean_seen)};
  c.dp.sum(sums, "the epoch's loss and counts");
  loss_sum = sums[0];
  correct = int64_t(sums[1]);
  seen = int64_t(sums[2]);
  kept_n = int64_t(sums[3]);
  kept_clean = int64_t(sums[4]);
  clean_seen = int64_t(sums[5]);
  const double last_t = epoch + 1.0 - 1.0 / c.batches_per_epoch;
  util::Record rec{{"epoch", epoch + 1},
                   {"lr", filter.lr(epoch, last_t, lr_at(o, last_t))},
                   {"train_loss", loss_sum / std::max<int64_t>(seen, 1)},
                   {"kept_fraction", double(kept_n) / std::max<int64_t>(seen, 1)},
                   {"seconds", seconds},
                   {"items_per_second", seen / std::max(seconds, 1e-9)}};
  if (!w.loss && !c.heads) rec["train_accuracy"] = double(correct) / std::max<int64_t>(seen, 1);
  if (know_clean) {
    rec["label_precision"] = double(kept_clean) / std::max<int64_t>(kept_n, 1);
    rec["clean_recall"] = double(kept_clean) / std::max<int64_t>(clean_seen, 1);
  }
  return rec;
}

}  // namespace

TrainResult Trainer::fit(const data::Dataset& train, const data::Dataset& val,
                         const EpochCallback& on_epoch) {
  const util::CpuCacheScope cache;  // every step allocates the same large activations
  const TrainOptions o = detail::resolved_options(options_, train, val);
  // A tag set trains the tag heads; the loader and the networks still read (placeholder) labels.
  std::optional<TagHeads> heads;
  data::Dataset set = train;
  if (detail::is_tag_set(train)) {
    heads.emplace(train.tags, o.tags, train.targets, "fit(train) targets");
    if (val.size() > 0) heads->check_targets(val.targets, "fit(val) targets");
    if (!set.labels.defined()) set.labels = torch::zeros({train.size()}, torch::kLong);
  }
  const int threads = util::set_threads(o.threads);
  const auto device = util::parse_device(o.device);
  const int64_t n = train.size();
  const std::string ckpt =
      o.checkpoint_dir.empty() ? "" : util::join_path(o.checkpoint_dir, kCheckpointName);
  const bool resuming = o.resume && util::file_exists(ckpt);
  DataParallel dp(o);
  dp.check_start(o, set, resuming ? "resume from " + ckpt : "start afresh");
  TrainResult result;
  const auto [excluded, cl_seconds] = detect_issues(o, set, resuming, dp);
  auto filter = noisy::make_filter(o.filter, n, o.epochs, o.lr, excluded);
  Networks w(set);
  w.init(o, filter->networks(), 0, device);
  int start_epoch = 0;
  if (resuming) {
    start_epoch = load_checkpoint(ckpt, o, w.nets, w.loss.get(), *w.optimizer, *filter,
                                  result.history, dp.size());
    for (auto& net : w.nets) net->to(device);
    if (w.loss) w.loss->to(device);
    LOOKALIKE_CHECK_ARG(start_epoch <= o.epochs, "checkpoint '", ckpt, "' has ", start_epoch,
                        " epochs done, more than epochs = ", o.epochs);
    dp.check_same("epoch " + std::to_string(start_epoch), "the checkpoint's epochs done");
  }
  dp.broadcast_weights(w);
  // The log restarts from what the checkpoint knows, so it never holds an epoch twice.
  if (!o.log_path.empty() && dp.root())
    util::write_file_atomic(o.log_path, util::to_json_lines(result.history));

  Progress progress;
  progress.mode = dp.root() ? detail::progress_mode(o.progress) : Progress::Mode::off;
  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = true;
  lo.seed = o.seed;
  lo.augment = o.augment;
  lo.sampler = o.sampler;
  lo.samples_per_class = o.samples_per_class;
  lo.rank = dp.rank();
  lo.world_size = dp.size();
  const EpochContext context{
      o,
      set,
      lo,
      device,
      o.mixed_precision && device.is_cuda(),
      (n + o.batch_size - 1) / o.batch_size,
      train.clean_labels.defined() ? train.clean_labels.cpu() : torch::Tensor(),
      progress,
      heads ? &*heads : nullptr,
      heads ? train.targets.to(torch::kCPU, torch::kFloat) : torch::Tensor(),
      dp};
  for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
    dp.begin_epoch(*filter);
    util::Record rec = run_epoch(context, epoch, w, *filter);
    dp.end_epoch(*filter);
    dp.average_buffers(w);
    rec["threads"] = threads;
    if (dp.on()) {
      rec["ranks"] = dp.size();
      rec["allreduce_seconds"] = dp.take_comm_seconds();
    }
    if (epoch == 0 && cl_seconds > 0) rec["cleaning_seconds"] = cl_seconds;
    if (epoch == 0 && heads)
      rec["tags_without_positives"] = static_cast<double>(heads->tags_without_positives().size());
    if (val.size() > 0) {
      const auto metrics = heads
                               ? evaluate_tags(w.nets[0], val, *heads, o.eval_batch_size, o.device)
                               : evaluate(w.nets[0], val, o.eval_batch_size, o.device);
      for (const auto& [key, value] : metrics) rec["val_" + key] = value;
    }
    progress.epoch_done(epoch, o.epochs, start_epoch, rec);
    result.history.push_back(rec);
    if (filter->end_epoch(epoch)) {
      w.init(o, filter->networks(), uint64_t(epoch) + 1, device);
      dp.broadcast_weights(w);
    }
    if (!ckpt.empty() && dp.root())
      save_checkpoint(o.checkpoint_dir, o, w.nets, w.loss.get(), *w.optimizer, *filter, epoch + 1,
                      result.history, dp.size());
    if (!ckpt.empty()) dp.barrier("the checkpoint's writing by rank 0");
    if (!o.log_path.empty() && dp.root()) append_line(o.log_path, util::to_json_line(rec));
    const bool stop = on_epoch && !on_epoch(rec);
    if (dp.any(stop, "the early-stop decision")) break;
  }
  result.model = w.nets[0];
  result.model->eval();
  return result;
}

namespace detail {

void write_net(torch::serialize::OutputArchive& archive, models::Net& net) {
  torch::serialize::OutputArchive weights;
  net->save(weights);
  archive.write("model_options", c10::IValue(to_json(net->options())));
  archive.write("weights", weights);
}

void open_archive(torch::serialize::InputArchive& archive, const std::string& path,
                  const char* kind, const std::string& format) {
  LOOKALIKE_CHECK_FILE(util::file_exists(path), kind, " file '", path, "' does not exist");
  c10::IValue value;
  try {
    archive.load_from(path);
    archive.read("format", value);
  } catch (const c10::Error&) {
    throw FileError(::lookalike::detail::concat("'", path, "' is not a lookalike ", kind,
                                                " file (truncated or other format)"));
  }
  LOOKALIKE_CHECK_FILE(value.isString() && value.toStringRef() == format, "'", path,
                       "' is not a lookalike ", kind, " (format ", format, ")");
}

models::Net read_net(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue options;
  torch::serialize::InputArchive weights;
  try {
    archive.read("model_options", options);
    archive.read("weights", weights);
  } catch (const c10::Error&) {
    throw FileError(::lookalike::detail::concat("'", path, "' holds no network"));
  }
  models::Net model(model_options_from_json(options.toStringRef()));  // weights from the file
  model->load(weights);
  model->apply_memory_format();
  model->eval();
  return model;
}

}  // namespace detail

void save_model(models::Net& model, const std::string& path) {
  util::write_atomic_with(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string("lookalike.Net/1")));
    detail::write_net(archive, model);
    archive.save_to(tmp);
  });
}

models::Net load_model(const std::string& path) {
  return guard_file_read(path, "model file", [&] {
    torch::serialize::InputArchive archive;
    detail::open_archive(archive, path, "model", "lookalike.Net/1");
    return detail::read_net(archive, path);
  });
}

}  // namespace lookalike::train
