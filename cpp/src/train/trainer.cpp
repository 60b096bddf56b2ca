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
#include "resolve.h"

namespace lookalike::train {

namespace {
using Clock = std::chrono::steady_clock;
using detail::kCheckpointName;
using detail::load_checkpoint;
using detail::Networks;
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

std::string format_duration(double s) {
  const long t = static_cast<long>(std::max(0.0, s));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

// Training progress on stderr: a bar with ETA redrawn ~5 times/s on a terminal ("bar"), one line
// per epoch with elapsed time and ETA in a log ("lines"), or nothing ("off").
struct Progress {
  enum class Mode { off, bar, lines } mode = Mode::off;
  Clock::time_point last{};
  Clock::time_point start = Clock::now();
  void update(int epoch, int epochs, int64_t batch, int64_t batches, double items_per_s,
              double loss, double eta_s) {
    if (mode != Mode::bar) return;
    const auto now = Clock::now();
    if (batch < batches && now - last < std::chrono::milliseconds(200)) return;  // ~5 redraws/s
    last = now;
    const int width = 20;
    const int filled = batches > 0 ? static_cast<int>(width * batch / batches) : width;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\repoch %d/%d [%s] %5.0f img/s  loss %.4f  ETA %s   ", epoch, epochs,
                 bar.c_str(), items_per_s, loss, format_duration(eta_s).c_str());
    std::fflush(stderr);
  }
  // After each epoch: ends the bar's line, or writes the epoch's line (loss, speed, val metrics).
  void epoch_done(int epoch, int epochs, int first_epoch, const util::Record& rec) {
    if (mode == Mode::bar) std::fprintf(stderr, "\n");
    if (mode != Mode::lines) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double eta = elapsed / std::max(1, epoch + 1 - first_epoch) * (epochs - epoch - 1);
    std::string vals;
    for (const auto& [key, value] : rec)
      if (key.rfind("val_", 0) == 0 && vals.size() < 80) vals += "  " + key + " " + fmt4(value);
    std::fprintf(stderr, "[train] epoch %d/%d  loss %.4f  %.0f img/s%s  (%s elapsed, ETA %s)\n",
                 epoch + 1, epochs, rec.at("train_loss"), rec.at("items_per_second"), vals.c_str(),
                 format_duration(elapsed).c_str(), format_duration(eta).c_str());
    std::fflush(stderr);
  }
  static std::string fmt4(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
  }
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
std::pair<torch::Tensor, double> detect_issues(const TrainOptions& o, const data::Dataset& train,
                                               bool resuming) {
  if (o.filter.filter != "confident_learning") return {torch::Tensor(), 0.0};
  if (resuming) return {torch::zeros({train.size()}, torch::kBool), 0.0};
  const auto t0 = Clock::now();
  TrainOptions fold = o;
  fold.filter = noisy::FilterOptions{};
  fold.epochs = o.filter.cl_epochs > 0 ? o.filter.cl_epochs : std::max(1, o.epochs / 2);
  fold.progress = "off";  // cross_val_pred_probs drops checkpoints, resume and the log itself
  auto probs = cross_val_pred_probs(train, o.filter.cl_folds, fold, o.seed);
  return {noisy::find_label_issues(train.labels, probs, o.filter.cl_filter_by),
          std::chrono::duration<double>(Clock::now() - t0).count()};
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
    if (bs < 2) continue;  // batch norm needs two samples
    const double t = epoch + double(batch_index - 1) / c.batches_per_epoch;
    w.set_lr(filter.lr(epoch, t, lr_at(o, t)));
    auto x = batch->images.to(c.device, /*non_blocking=*/true);
    auto y = batch->labels.to(c.device, /*non_blocking=*/true);
    torch::Tensor kept, logits;
    auto loss = batch_loss(c, w, filter, x, y, *batch, epoch, kept, logits);
    w.optimizer->zero_grad();
    loss.backward();
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
  TrainResult result;
  const auto [excluded, cl_seconds] = detect_issues(o, set, resuming);
  auto filter = noisy::make_filter(o.filter, n, o.epochs, o.lr, excluded);
  Networks w(set);
  w.init(o, filter->networks(), 0, device);
  int start_epoch = 0;
  if (resuming) {
    start_epoch =
        load_checkpoint(ckpt, o, w.nets, w.loss.get(), *w.optimizer, *filter, result.history);
    for (auto& net : w.nets) net->to(device);
    if (w.loss) w.loss->to(device);
    LOOKALIKE_CHECK_ARG(start_epoch <= o.epochs, "checkpoint '", ckpt, "' has ", start_epoch,
                        " epochs done, more than epochs = ", o.epochs);
  }
  // The log restarts from what the checkpoint knows, so it never holds an epoch twice.
  if (!o.log_path.empty()) util::write_file_atomic(o.log_path, util::to_json_lines(result.history));

  Progress progress;
  const bool tty = ::isatty(fileno(stderr));
  progress.mode = o.progress == "on" || (o.progress == "auto" && tty) ? Progress::Mode::bar
                  : o.progress == "lines" || o.progress == "auto"     ? Progress::Mode::lines
                                                                      : Progress::Mode::off;
  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = true;
  lo.seed = o.seed;
  lo.augment = o.augment;
  lo.sampler = o.sampler;
  lo.samples_per_class = o.samples_per_class;
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
      heads ? train.targets.to(torch::kCPU, torch::kFloat) : torch::Tensor()};
  for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
    util::Record rec = run_epoch(context, epoch, w, *filter);
    rec["threads"] = threads;
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
    if (filter->end_epoch(epoch)) w.init(o, filter->networks(), uint64_t(epoch) + 1, device);
    if (!ckpt.empty())
      save_checkpoint(o.checkpoint_dir, o, w.nets, w.loss.get(), *w.optimizer, *filter, epoch + 1,
                      result.history);
    if (!o.log_path.empty()) append_line(o.log_path, util::to_json_line(rec));
    if (on_epoch && !on_epoch(rec)) break;
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
