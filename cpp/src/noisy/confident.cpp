#include "lookalike/noisy/confident.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "by_class.h"
#include "lookalike/data/split.h"
#include "lookalike/error.h"
#include "lookalike/util/rng.h"

namespace lookalike::noisy {

void check_pred_probs(const torch::Tensor& labels, const torch::Tensor& p) {
  LOOKALIKE_CHECK_ARG(labels.defined() && labels.dim() == 1 && labels.scalar_type() == torch::kLong,
                      "labels must be a 1-d int64 tensor");
  LOOKALIKE_CHECK_ARG(p.defined() && p.dim() == 2 && p.is_floating_point(),
                      "pred_probs must be a float tensor [N, C]");
  LOOKALIKE_CHECK_ARG(p.size(0) == labels.numel(), "pred_probs has ", p.size(0),
                      " rows but there are ", labels.numel(), " labels");
  LOOKALIKE_CHECK_ARG(p.size(0) > 0 && p.size(1) >= 2, "pred_probs must be [N > 0, C >= 2], got ",
                      p.sizes());
  auto pd = p.to(torch::kDouble);
  LOOKALIKE_CHECK_ARG(torch::isfinite(pd).all().item<bool>(), "pred_probs contain NaN or Inf");
  LOOKALIKE_CHECK_ARG(pd.min().item<double>() >= 0 && pd.max().item<double>() <= 1 + 1e-6,
                      "pred_probs must lie in [0, 1]");
  const double worst = (pd.sum(1) - 1).abs().max().item<double>();
  LOOKALIKE_CHECK_ARG(worst < 1e-3, "pred_probs rows must sum to 1 (worst row is off by ", worst,
                      "); pass probabilities, not logits");
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  LOOKALIKE_CHECK_ARG(lo >= 0 && hi < p.size(1), "labels must lie in [0, ", p.size(1), "), found ",
                      lo < 0 ? lo : hi);
}

namespace {
// The unchecked computations; the public functions validate their input once, then call these.

torch::Tensor thresholds_of(const torch::Tensor& labels, const torch::Tensor& pred_probs) {
  const int64_t c = pred_probs.size(1);
  auto p = pred_probs.to(torch::kDouble).cpu();
  auto y = labels.cpu();
  auto sums =
      torch::zeros({c, c}, torch::kDouble).index_add_(0, y, p);  // row i: sum of p over y == i
  auto counts = torch::bincount(y, {}, c).to(torch::kDouble);
  // A class nobody is labelled with gets threshold 1 + eps: no sample is confidently in it.
  return torch::where(counts.gt(0), sums.diagonal() / counts.clamp_min(1),
                      torch::full({c}, 1.0 + 1e-9, torch::kDouble));
}

// Per sample: the confident class (argmax over j with p_j >= t_j), or -1 when none reaches it.
torch::Tensor confident_class_of(const torch::Tensor& labels, const torch::Tensor& pred_probs) {
  auto t = thresholds_of(labels, pred_probs);
  auto p = pred_probs.to(torch::kDouble).cpu();
  auto above = p.ge(t.unsqueeze(0) - 1e-12);
  auto masked = p.masked_fill(above.logical_not(), -1.0);
  auto best = masked.argmax(1);
  return torch::where(above.any(1), best, torch::full_like(best, -1));
}

torch::Tensor joint_of(const torch::Tensor& labels, const torch::Tensor& pred_probs,
                       bool calibrate) {
  const int64_t c = pred_probs.size(1);
  auto j = confident_class_of(labels, pred_probs);
  auto y = labels.cpu();
  auto ok = j.ge(0);
  auto joint =
      torch::bincount(y.masked_select(ok) * c + j.masked_select(ok), {}, c * c).view({c, c});
  if (!calibrate) return joint;
  auto cj = joint.to(torch::kDouble);
  auto given = torch::bincount(y, {}, c).to(torch::kDouble);
  cj = cj / cj.sum(1, true).clamp_min(1e-12) * given.unsqueeze(1);  // rows sum to label counts
  return cj / cj.sum() * double(y.numel());
}
}  // namespace

torch::Tensor class_thresholds(const torch::Tensor& labels, const torch::Tensor& pred_probs) {
  check_pred_probs(labels, pred_probs);
  return thresholds_of(labels, pred_probs);
}

torch::Tensor confident_joint(const torch::Tensor& labels, const torch::Tensor& pred_probs,
                              bool calibrate) {
  check_pred_probs(labels, pred_probs);
  return joint_of(labels, pred_probs, calibrate);
}

double estimate_noise_rate(const torch::Tensor& labels, const torch::Tensor& pred_probs) {
  auto cj = confident_joint(labels, pred_probs, true);
  return 1.0 - cj.diagonal().sum().item<double>() / cj.sum().item<double>();
}

torch::Tensor rank_by_self_confidence(const torch::Tensor& labels,
                                      const torch::Tensor& pred_probs) {
  check_pred_probs(labels, pred_probs);
  auto self = pred_probs.to(torch::kDouble).cpu().gather(1, labels.cpu().unsqueeze(1)).squeeze(1);
  return std::get<1>(self.sort(/*stable=*/true, 0, /*descending=*/false));
}

torch::Tensor find_label_issues(const torch::Tensor& labels, const torch::Tensor& pred_probs,
                                const std::string& filter_by, double frac_noise) {
  check_pred_probs(labels, pred_probs);
  LOOKALIKE_CHECK_ARG(filter_by == "confident_learning" || filter_by == "prune_by_class" ||
                          filter_by == "prune_by_noise_rate" || filter_by == "both",
                      "filter_by must be 'prune_by_noise_rate', 'prune_by_class', 'both' or ",
                      "'confident_learning', got '", filter_by, "'");
  LOOKALIKE_CHECK_ARG(frac_noise > 0 && frac_noise <= 1, "frac_noise must be in (0, 1], got ",
                      frac_noise);
  const int64_t n = labels.numel(), c = pred_probs.size(1);
  auto y = labels.cpu().contiguous();
  if (filter_by == "confident_learning") {
    auto j = confident_class_of(labels, pred_probs);
    return j.ge(0).logical_and(j.ne(y));
  }
  auto p = pred_probs.to(torch::kDouble).cpu().contiguous();
  auto cj = joint_of(labels, pred_probs, true);
  auto pa = p.accessor<double, 2>();
  const auto members = detail::members_by_class(y, c);
  auto by_class = torch::zeros({n}, torch::kBool), by_rate = torch::zeros({n}, torch::kBool);
  auto bc = by_class.data_ptr<bool>(), br = by_rate.data_ptr<bool>();
  for (int64_t i = 0; i < c; ++i) {
    auto& m = members[i];
    if (m.empty()) continue;
    // prune_by_class: the lowest self-confidence, as many as row i's off-diagonal mass.
    if (filter_by != "prune_by_noise_rate") {
      const double off = cj[i].sum().item<double>() - cj[i][i].item<double>();
      int64_t remove = std::min<int64_t>(int64_t(m.size()) - 1, std::llround(off * frac_noise));
      std::vector<int64_t> order(m);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return pa[a][i] < pa[b][i]; });
      for (int64_t r = 0; r < remove; ++r) bc[order[r]] = true;
    }
    // prune_by_noise_rate: per (i, j), the largest margins p[j] - p[i].
    for (int64_t j = 0; j < c && filter_by != "prune_by_class"; ++j) {
      if (j == i) continue;
      const int64_t want =
          std::min<int64_t>(int64_t(m.size()), std::llround(cj[i][j].item<double>() * frac_noise));
      if (want <= 0) continue;
      std::vector<int64_t> o2(m);
      std::partial_sort(o2.begin(), o2.begin() + want, o2.end(), [&](int64_t a, int64_t b) {
        const double ma = pa[a][j] - pa[a][i], mb = pa[b][j] - pa[b][i];
        return ma > mb || (ma == mb && a < b);
      });
      for (int64_t r = 0; r < want; ++r) br[o2[r]] = true;
    }
  }
  if (filter_by == "prune_by_class") return by_class;
  if (filter_by == "prune_by_noise_rate") return by_rate;
  return by_class.logical_and(by_rate);
}

torch::Tensor cross_val_pred_probs(const data::Dataset& set, int64_t folds, int64_t num_classes,
                                   const FoldFit& fit, uint64_t seed) {
  data::check_images_labels(set.images, set.labels, "cross_val_pred_probs");
  LOOKALIKE_CHECK_ARG(folds >= 2 && folds <= set.size(), "folds must be in [2, N], got ", folds);
  const int64_t n = set.size();
  const int64_t c = num_classes > 0 ? num_classes : set.labels.max().item<int64_t>() + 1;
  // Stratified folds: each class's seeded shuffle dealt round-robin.
  auto y = set.labels.cpu().contiguous();
  const auto members = detail::members_by_class(y, c);
  std::vector<int64_t> fold(n);
  int64_t dealt = 0;
  for (int64_t k = 0; k < c; ++k) {
    auto perm = util::permutation(static_cast<int64_t>(members[k].size()), util::mix_seed(seed, k));
    for (size_t r = 0; r < perm.size(); ++r) fold[members[k][perm[r]]] = (dealt + r) % folds;
    dealt += members[k].size();
  }
  auto probs = torch::empty({n, c}, torch::kFloat);
  for (int64_t f = 0; f < folds; ++f) {
    std::vector<int64_t> tr, te;
    for (int64_t i = 0; i < n; ++i) (fold[i] == f ? te : tr).push_back(i);
    auto tri = torch::tensor(tr, torch::kLong), tei = torch::tensor(te, torch::kLong);
    data::Dataset part{set.images.index_select(0, tri), set.labels.index_select(0, tri), {}};
    auto p = fit(part, set.images.index_select(0, tei), c, f);
    LOOKALIKE_CHECK_ARG(p.dim() == 2 && p.size(0) == tei.numel() && p.size(1) == c,
                        "cross_val_pred_probs: fold ", f, " returned probabilities of shape ",
                        p.sizes(), ", expected [", tei.numel(), ", ", c, "]");
    probs.index_copy_(0, tei, p.to(torch::kFloat).cpu());
  }
  return probs;
}

}  // namespace lookalike::noisy
