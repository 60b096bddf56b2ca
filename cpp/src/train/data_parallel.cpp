#include "data_parallel.h"

#include <chrono>
#include <set>

#include "checkpoint.h"
#include "lookalike/error.h"

namespace lookalike::train::detail {

std::string world_size_dependence(const TrainOptions& o) {
  static const std::set<std::string> selecting = {"small_loss", "coteaching", "coteaching_plus",
                                                  "jocor"};
  if (o.metric.loss != "cross_entropy")
    return "the metric loss '" + o.metric.loss + "' pairs samples within each rank's share";
  if (selecting.count(o.filter.filter))
    return "the filter '" + o.filter.filter + "' selects samples within each rank's share";
  return "";
}

DataParallel::DataParallel(const TrainOptions& o) : bucket_bytes_(o.bucket_mb * 1024 * 1024) {
  if (o.distributed == "auto") world_ = &dist::world();
}

void DataParallel::check_same(const std::string& text, const char* what) {
  if (on()) dist::check_same(*world_, text, what);
}

void DataParallel::check_start(const TrainOptions& o, const data::Dataset& train,
                               const std::string& resume) {
  if (!on()) return;
  dist::check_same(*world_, trajectory_json(o).dump(), "the training options");
  const auto labels =
      train.labels.defined() ? train.labels.to(torch::kDouble).sum().item<double>() : 0.0;
  std::string data = "n " + std::to_string(train.size()) + ", images " +
                     (train.images.defined() ? c10::str(train.images.sizes()) : "none") +
                     ", label sum " + std::to_string(labels);
  dist::check_same(*world_, data, "the training set");
  dist::check_same(*world_, resume, "the start (every rank resumes from checkpoint_dir)");
}

void DataParallel::broadcast_weights(Networks& w) {
  if (!on()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> all;
  for (auto& net : w.nets) {
    for (auto& p : net->parameters()) all.push_back(p);
    for (auto& b : net->buffers()) all.push_back(b);
  }
  if (w.loss)
    for (auto& p : w.loss->parameters()) all.push_back(p);
  for (auto& t : all) {
    auto cpu = t.detach().to(torch::kCPU).contiguous();
    world_->broadcast(cpu, 0, "the initial weights' broadcast");
    t.copy_(cpu);
  }
}

double DataParallel::take_comm_seconds() {
  const double s = comm_seconds_;
  comm_seconds_ = 0;
  return s;
}

void DataParallel::sum_gradients(torch::optim::Optimizer& opt) {
  if (!on()) return;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<torch::Tensor> params;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params())
      if (p.requires_grad()) params.push_back(p);
  // A parameter without a gradient on every rank keeps none (the optimizer skips it, as it would
  // in one process); one with a gradient on some rank counts the others' as zero.
  auto has = torch::empty({int64_t(params.size())}, torch::kFloat);
  for (size_t i = 0; i < params.size(); ++i) {
    has[int64_t(i)] = params[i].grad().defined() ? 1.0f : 0.0f;
    if (!params[i].grad().defined()) params[i].mutable_grad() = torch::zeros_like(params[i]);
  }
  std::vector<torch::Tensor> mask{has};
  world_->all_reduce_sum(mask, "the gradients' all-reduce");
  // Buckets of contiguous parameters, one flat float tensor each.
  size_t first = 0;
  while (first < params.size()) {
    size_t last = first;
    double bytes = 0;
    std::vector<torch::Tensor> flat;
    while (last < params.size() && (last == first || bytes < bucket_bytes_)) {
      flat.push_back(params[last].grad().detach().reshape({-1}).to(torch::kCPU, torch::kFloat));
      bytes += double(params[last].numel()) * 4;
      ++last;
    }
    std::vector<torch::Tensor> bucket{torch::cat(flat)};
    world_->all_reduce_sum(bucket, "the gradients' all-reduce");
    int64_t offset = 0;
    for (size_t i = first; i < last; ++i) {
      auto& g = params[i].mutable_grad();
      g.copy_(bucket[0].narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    first = last;
  }
  auto has_any = mask[0];
  for (size_t i = 0; i < params.size(); ++i)
    if (has_any[int64_t(i)].item<float>() == 0.0f) params[i].mutable_grad() = torch::Tensor();
  comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void DataParallel::sum(std::vector<double>& values, const char* what) {
  if (!on() || values.empty()) return;
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kDouble)};
  world_->all_reduce_sum(t, what);
  for (size_t i = 0; i < values.size(); ++i) values[i] = t[0][int64_t(i)].item<double>();
}

void DataParallel::average_buffers(Networks& w) {
  if (!on()) return;
  torch::NoGradGuard no_grad;
  for (auto& net : w.nets) {
    for (auto& named : net->named_buffers()) {
      auto& b = named.value();
      if (!b.is_floating_point()) continue;  // num_batches_tracked: the same on every rank
      std::vector<torch::Tensor> t{b.detach().to(torch::kCPU, torch::kDouble).contiguous()};
      world_->all_reduce_sum(t, "the batch-norm statistics' all-reduce");
      b.copy_(t[0].div_(size()));
    }
  }
}

bool DataParallel::any(bool flag, const char* what) {
  std::vector<double> v{flag ? 1.0 : 0.0};
  sum(v, what);
  return v[0] > 0;
}

torch::Tensor DataParallel::from_root(const torch::Tensor& t, const char* what) {
  if (!on()) return t;
  // The shape first (ranks other than 0 may hold nothing yet), then the bytes.
  auto dims = torch::zeros({8}, torch::kLong);
  if (root()) {
    LOOKALIKE_CHECK_ARG(t.dim() <= 7, what, ": at most 7 dimensions");
    dims[0] = t.dim();
    for (int64_t i = 0; i < t.dim(); ++i) dims[i + 1] = t.size(i);
  }
  world_->broadcast(dims, 0, what);
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < dims[0].item<int64_t>(); ++i)
    shape.push_back(dims[i + 1].item<int64_t>());
  auto bytes =
      root() ? t.to(torch::kCPU, torch::kDouble).contiguous() : torch::empty(shape, torch::kDouble);
  world_->broadcast(bytes, 0, what);
  return bytes.to(t.defined() ? t.scalar_type() : torch::kDouble);
}

void DataParallel::begin_epoch(const noisy::SampleFilter& filter) {
  filter_base_.clear();
  if (!on()) return;
  const auto state = filter.state();
  for (const auto& name : filter.summed_state()) filter_base_[name] = state.at(name).clone();
}

void DataParallel::end_epoch(noisy::SampleFilter& filter) {
  if (!on() || filter_base_.empty()) return;
  auto state = filter.state();
  for (const auto& [name, base] : filter_base_) {
    std::vector<torch::Tensor> added{(state.at(name) - base).to(torch::kCPU).contiguous()};
    world_->all_reduce_sum(added, "the filter's per-sample sums");
    state[name] = base + added[0].to(base.scalar_type());
  }
  filter.load_state(state);
}

void DataParallel::barrier(const char* what) {
  if (on()) world_->barrier(what);
}

}  // namespace lookalike::train::detail
