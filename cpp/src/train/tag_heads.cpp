#include "lookalike/train/tag_heads.h"

#include <algorithm>
#include <map>

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::train {
namespace {

torch::Tensor index_tensor(const std::vector<int64_t>& columns) {
  return torch::tensor(columns, torch::kLong);
}

// Per-class weights of counts float [K] among n labelled rows, as the option asks.
torch::Tensor weights_from_counts(const torch::Tensor& positives, double n, const std::string& rule,
                                  bool exclusive) {
  if (rule == "none") return torch::ones_like(positives);
  auto w = exclusive ? n / (positives.clamp_min(1) * static_cast<double>(positives.size(0)))
                     : ((n - positives) / positives.clamp_min(1)).clamp_min(1);
  w = torch::where(positives > 0, w, torch::ones_like(w));  // nothing to weigh up
  return rule == "sqrt" ? w.sqrt() : w;
}

}  // namespace

void validate(const TagHeadOptions& o) {
  make_multilabel_loss(o.tag_loss);
  LOOKALIKE_CHECK_ARG(
      o.tag_pos_weight == "none" || o.tag_pos_weight == "balanced" || o.tag_pos_weight == "sqrt",
      "tag_pos_weight must be 'none', 'balanced' or 'sqrt', got '", o.tag_pos_weight, "'");
}

bool is_default(const TagHeadOptions& o) {
  static const TagHeadOptions defaults;
  return util::options_json(o) == util::options_json(defaults);
}

std::string tag_family(const std::string& tag) {
  const auto colon = tag.find(':');
  return colon == std::string::npos || colon == 0 ? "tag" : tag.substr(0, colon);
}

std::vector<TagFamily> tag_families(const std::vector<std::string>& tags,
                                    const std::vector<std::string>& exclusive) {
  std::vector<TagFamily> families;
  std::map<std::string, size_t> index;
  for (size_t t = 0; t < tags.size(); ++t) {
    const auto name = tag_family(tags[t]);
    auto [it, added] = index.emplace(name, families.size());
    if (added) families.push_back({name, {}, false});
    families[it->second].columns.push_back(static_cast<int64_t>(t));
  }
  for (const auto& name : exclusive) {
    const auto it = index.find(name);
    LOOKALIKE_CHECK_ARG(it != index.end(), "tags.exclusive names family '", name,
                        "', which has no tag (tag names are 'family:value')");
    families[it->second].exclusive = true;
  }
  return families;
}

TagHeads::TagHeads(const std::vector<std::string>& tags, const TagHeadOptions& options,
                   const torch::Tensor& train_targets, const char* what)
    : tags_(tags), families_(tag_families(tags, options.exclusive)) {
  validate(options);
  LOOKALIKE_CHECK_ARG(!tags.empty(), "tag heads: no tag");
  loss_ = make_multilabel_loss(options.tag_loss);
  check_targets(train_targets, what);
  const auto targets = train_targets.to(torch::kCPU, torch::kFloat);
  const auto positives = targets.sum(0);
  const double n = static_cast<double>(targets.size(0));
  weights_ = torch::ones({size()}, torch::kFloat);
  std::vector<int64_t> multi;
  for (const auto& f : families_) {
    const auto cols = index_tensor(f.columns);
    const auto pos = positives.index_select(0, cols);
    const double labelled = f.exclusive ? pos.sum().item<double>() : n;
    weights_.index_copy_(0, cols,
                         weights_from_counts(pos, labelled, options.tag_pos_weight, f.exclusive));
    if (!f.exclusive) multi.insert(multi.end(), f.columns.begin(), f.columns.end());
  }
  if (!multi.empty()) multi_columns_ = index_tensor(multi);
  const auto p = positives.accessor<float, 1>();
  for (int64_t t = 0; t < size(); ++t)
    if (p[t] == 0) empty_.push_back(tags_[static_cast<size_t>(t)]);
}

void TagHeads::check_targets(const torch::Tensor& targets, const char* what) const {
  LOOKALIKE_CHECK_ARG(targets.defined() && targets.dim() == 2 && targets.size(1) == size() &&
                          targets.is_floating_point(),
                      what, ": expected float [N, ", size(), "] (one 0/1 column per tag), got ",
                      targets.defined() ? targets.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG((targets == 0).logical_or(targets == 1).all().item<bool>(), what,
                      ": tag targets must be 0 or 1");
  for (const auto& f : families_) {
    if (!f.exclusive) continue;
    const auto per_row =
        targets.index_select(1, index_tensor(f.columns).to(targets.device())).sum(1);
    const auto bad = (per_row > 1).nonzero();
    LOOKALIKE_CHECK_ARG(bad.size(0) == 0, what, ": photo ",
                        bad.size(0) ? bad[0][0].item<int64_t>() : 0, " has ",
                        bad.size(0) ? per_row[bad[0][0]].item<float>() : 0.0f,
                        " tags of exclusive family '", f.name, "' (at most one)");
  }
}

torch::Tensor TagHeads::loss(const torch::Tensor& logits, const torch::Tensor& targets) const {
  const auto device = logits.device();
  const auto w = weights_.to(device);
  torch::Tensor total = torch::zeros({}, logits.options());
  if (multi_columns_.defined()) {
    const auto cols = multi_columns_.to(device);
    total = total + loss_->forward(logits.index_select(1, cols), targets.index_select(1, cols),
                                   w.index_select(0, cols));
  }
  for (const auto& f : families_) {
    if (!f.exclusive) continue;
    const auto cols = index_tensor(f.columns).to(device);
    const auto family = targets.index_select(1, cols);
    const auto rows = (family.sum(1) > 0).nonzero().squeeze(1);
    if (rows.size(0) == 0) continue;  // no photo of the batch is labelled in this family
    total = total +
            torch::nn::functional::cross_entropy(
                logits.index_select(1, cols).index_select(0, rows),
                family.index_select(0, rows).argmax(1),
                torch::nn::functional::CrossEntropyFuncOptions().weight(w.index_select(0, cols)));
  }
  return total;
}

torch::Tensor TagHeads::known(const torch::Tensor& targets) const {
  auto out = torch::ones(targets.sizes(), targets.options().dtype(torch::kBool));
  for (const auto& f : families_) {
    if (!f.exclusive) continue;
    const auto cols = index_tensor(f.columns).to(targets.device());
    const auto labelled = targets.index_select(1, cols).sum(1, /*keepdim=*/true) > 0;
    out.index_copy_(1, cols, labelled.expand({targets.size(0), cols.size(0)}).contiguous());
  }
  return out;
}

torch::Tensor tag_probabilities(const torch::Tensor& logits,
                                const std::vector<TagFamily>& families) {
  auto out = torch::sigmoid(logits.to(torch::kFloat));
  for (const auto& f : families) {
    if (!f.exclusive) continue;
    const auto cols = index_tensor(f.columns).to(logits.device());
    out.index_copy_(1, cols, torch::softmax(logits.index_select(1, cols).to(torch::kFloat), 1));
  }
  return out;
}

}  // namespace lookalike::train
