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

#include "checkpoint.h"
#include "lookalike/data/loader.h"
#include "lookalike/error.h"
#include "lookalike/eval/retrieval.h"
#include "lookalike/models/embed.h"
#include "lookalike/noisy/confident.h"
#include "lookalike/train/cross_val.h"
#include "lookalike/util/cpu_cache.h"
#include "lookalike/util/device.h"
#include "lookalike/util/files.h"
#include "lookalike/util/rng.h"
#include "lookalike/util/threads.h"
#include "networks.h"

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

struct Progress {
  bool on = false;
  Clock::time_point last{};
  void update(int epoch, int epochs, int64_t batch, int64_t batches, double items_per_s,
              double loss, double eta_s) {
    if (!on) return;
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
  void end_line() {
    if (on) std::fprintf(stderr, "\n");
  }
};

void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  LOOKALIKE_CHECK_FILE(out.good(), "cannot append to metrics log '", path, "'");
  out << line << '\n';
}

}  // namespace

void validate(const TrainOptions& o) {
  LOOKALIKE_CHECK_ARG(o.epochs > 0, "epochs must be positive, got ", o.epochs);
  LOOKALIKE_CHECK_ARG(o.batch_size > 1, "batch_size must be at least 2 (batch norm), got ",
                      o.batch_size);
  LOOKALIKE_CHECK_ARG(o.optimizer == "adam" || o.optimizer == "sgd",
                      "optimizer must be 'adam' or 'sgd', got '", o.optimizer, "'");
  LOOKALIKE_CHECK_ARG(o.lr > 0 && std::isfinite(o.lr), "lr must be positive, got ", o.lr);
  LOOKALIKE_CHECK_ARG(o.momentum >= 0 && o.momentum < 1, "momentum must be in [0, 1), got ",
                      o.momentum);
  LOOKALIKE_CHECK_ARG(o.weight_decay >= 0, "weight_decay must be >= 0, got ", o.weight_decay);
  LOOKALIKE_CHECK_ARG(o.schedule == "cosine" || o.schedule == "step" || o.schedule == "constant",
                      "schedule must be 'cosine', 'step' or 'constant', got '", o.schedule, "'");
  LOOKALIKE_CHECK_ARG(o.step_size > 0, "step_size must be positive, got ", o.step_size);
  LOOKALIKE_CHECK_ARG(o.gamma > 0 && o.gamma <= 1, "gamma must be in (0, 1], got ", o.gamma);
  LOOKALIKE_CHECK_ARG(o.warmup_epochs >= 0, "warmup_epochs must be >= 0, got ", o.warmup_epochs);
  LOOKALIKE_CHECK_ARG(o.augment == "none" || o.augment == "flip" || o.augment == "flip_crop",
                      "augment must be 'none', 'flip' or 'flip_crop', got '", o.augment, "'");
  LOOKALIKE_CHECK_ARG(o.progress == "auto" || o.progress == "on" || o.progress == "off",
                      "progress must be 'auto', 'on' or 'off', got '", o.progress, "'");
  LOOKALIKE_CHECK_ARG(o.eval_batch_size > 0, "eval_batch_size must be positive, got ",
                      o.eval_batch_size);
  LOOKALIKE_CHECK_ARG(o.freeze_stages >= -1, "freeze_stages must be >= -1 (-1: all), got ",
                      o.freeze_stages);
  LOOKALIKE_CHECK_ARG(o.backbone_lr_factor >= 0 && std::isfinite(o.backbone_lr_factor),
                      "backbone_lr_factor must be >= 0, got ", o.backbone_lr_factor);
  LOOKALIKE_CHECK_ARG(o.head_warmup_epochs >= 0 && o.head_warmup_epochs < o.epochs,
                      "head_warmup_epochs must be in [0, epochs), got ", o.head_warmup_epochs);
  LOOKALIKE_CHECK_ARG(o.batch_norm == "auto" || o.batch_norm == "train" || o.batch_norm == "frozen",
                      "batch_norm must be 'auto', 'train' or 'frozen', got '", o.batch_norm, "'");
  LOOKALIKE_CHECK_ARG(o.sampler == "random" || o.sampler == "class_balanced",
                      "sampler must be 'random' or 'class_balanced', got '", o.sampler, "'");
  LOOKALIKE_CHECK_ARG(o.samples_per_class >= 2, "samples_per_class must be at least 2, got ",
                      o.samples_per_class);
  models::validate(o.model);
  metric::validate(o.metric);
  noisy::validate(o.filter);
  LOOKALIKE_CHECK_ARG(!o.resume || !o.checkpoint_dir.empty(),
                      "resume needs checkpoint_dir to name the folder of the checkpoint");
  util::parse_device(o.device);
}

std::string to_json(const TrainOptions& o) { return util::options_json(o).dump(); }

std::string to_json(const models::NetOptions& o) { return util::options_json(o).dump(); }

models::NetOptions model_options_from_json(const std::string& text) {
  return util::options_from_json_text<models::NetOptions>(text, "model");
}

Trainer::Trainer(TrainOptions options) : options_(std::move(options)) {}

util::Record evaluate(models::Net& model, const data::Dataset& set, int64_t batch_size,
                      const std::string& device) {
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

// The options fit runs with: the sets and options checked, input channels and (when not set)
// classes taken from the data.
TrainOptions resolved_options(TrainOptions o, const data::Dataset& train,
                              const data::Dataset& val) {
  data::check_images_labels(train.images, train.labels, "fit(train)");
  if (val.size() > 0) {
    data::check_images_labels(val.images, val.labels, "fit(val)");
    LOOKALIKE_CHECK_ARG(val.images.sizes().slice(1) == train.images.sizes().slice(1),
                        "fit: val images are ", val.images.sizes(), ", train images are ",
                        train.images.sizes(), " (C, H, W must match)");
  }
  const int channels = static_cast<int>(train.images.size(1));
  LOOKALIKE_CHECK_ARG(o.model.in_channels <= 0 || o.model.in_channels == channels,
                      "fit: model.in_channels = ", o.model.in_channels, " but the images have ",
                      channels, " channels (leave it 0 to take it from the images)");
  o.model.in_channels = channels;
  const int64_t max_label = train.labels.max().item<int64_t>();
  if (o.metric.loss != "cross_entropy") {  // the loss owns what a classifier would
    LOOKALIKE_CHECK_ARG(o.model.num_classes == 0, "fit: num_classes is the classifier's; the ",
                        o.metric.loss, " loss trains the embedding without one (leave it 0)");
    LOOKALIKE_CHECK_ARG(o.filter.filter == "none", "fit: noisy-label filter '", o.filter.filter,
                        "' works on the classifier's cross-entropy, not the ", o.metric.loss,
                        " loss");
  } else if (o.model.num_classes <= 0) {
    o.model.num_classes = static_cast<int>(max_label + 1);
  }
  LOOKALIKE_CHECK_ARG(o.metric.loss != "cross_entropy" || max_label < o.model.num_classes,
                      "fit: label ", max_label,
                      " does not fit num_classes = ", o.model.num_classes);
  validate(o);
  const int64_t n = train.size();
  if (train.clean_labels.defined()) {
    LOOKALIKE_CHECK_ARG(train.clean_labels.dim() == 1 && train.clean_labels.size(0) == n &&
                            train.clean_labels.scalar_type() == torch::kLong,
                        "fit: clean_labels must be int64 [", n, "]");
  }
  return o;
}

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
};

// One batch's loss: cross-entropy of every network's logits through the filter (kept: the
// samples it used, logits: the first network's), or the metric loss of the embedding (all
// kept, logits undefined).
torch::Tensor batch_loss(Networks& w, noisy::SampleFilter& filter, const torch::Tensor& x,
                         const torch::Tensor& y, const data::Batch& batch, int epoch, bool amp,
                         torch::Tensor& kept, torch::Tensor& logits) {
  CudaAutocast autocast(amp);
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
    auto loss = batch_loss(w, filter, x, y, *batch, epoch, c.amp, kept, logits);
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
  if (!w.loss) rec["train_accuracy"] = double(correct) / std::max<int64_t>(seen, 1);
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
  const TrainOptions o = resolved_options(options_, train, val);
  const int threads = util::set_threads(o.threads);
  const auto device = util::parse_device(o.device);
  const int64_t n = train.size();
  const std::string ckpt =
      o.checkpoint_dir.empty() ? "" : util::join_path(o.checkpoint_dir, kCheckpointName);
  const bool resuming = o.resume && util::file_exists(ckpt);
  TrainResult result;
  const auto [excluded, cl_seconds] = detect_issues(o, train, resuming);
  auto filter = noisy::make_filter(o.filter, n, o.epochs, o.lr, excluded);
  Networks w(train);
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
  progress.on = o.progress == "on" || (o.progress == "auto" && ::isatty(fileno(stderr)));
  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = true;
  lo.seed = o.seed;
  lo.augment = o.augment;
  lo.sampler = o.sampler;
  lo.samples_per_class = o.samples_per_class;
  const EpochContext context{
      o,
      train,
      lo,
      device,
      o.mixed_precision && device.is_cuda(),
      (n + o.batch_size - 1) / o.batch_size,
      train.clean_labels.defined() ? train.clean_labels.cpu() : torch::Tensor(),
      progress};
  for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
    util::Record rec = run_epoch(context, epoch, w, *filter);
    rec["threads"] = threads;
    if (epoch == 0 && cl_seconds > 0) rec["cleaning_seconds"] = cl_seconds;
    if (val.size() > 0) {
      for (const auto& [key, value] : evaluate(w.nets[0], val, o.eval_batch_size, o.device))
        rec["val_" + key] = value;
    }
    progress.end_line();
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

void save_model(models::Net& model, const std::string& path) {
  util::write_atomic_with(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive, weights;
    model->save(weights);
    archive.write("format", c10::IValue(std::string("lookalike.Net/1")));
    archive.write("model_options", c10::IValue(to_json(model->options())));
    archive.write("weights", weights);
    archive.save_to(tmp);
  });
}

models::Net load_model(const std::string& path) {
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "model file '", path, "' does not exist");
  torch::serialize::InputArchive archive;
  c10::IValue format, options;
  try {
    archive.load_from(path);
    archive.read("format", format);
    archive.read("model_options", options);
  } catch (const c10::Error&) {
    throw FileError(::lookalike::detail::concat(
        "'", path, "' is not a lookalike model file (truncated or other format)"));
  }
  LOOKALIKE_CHECK_FILE(format.isString() && format.toStringRef() == "lookalike.Net/1", "'", path,
                       "' is not a lookalike model (format lookalike.Net/1)");
  models::Net model(model_options_from_json(options.toStringRef()));  // weights from the file
  torch::serialize::InputArchive weights;
  archive.read("weights", weights);
  model->load(weights);
  model->apply_memory_format();
  model->eval();
  return model;
}

}  // namespace lookalike::train
