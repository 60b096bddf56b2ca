#include "lookalike/noisy/noise.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "by_class.h"
#include "lookalike/error.h"
#include "lookalike/util/rng.h"

namespace lookalike::noisy {

namespace {

int64_t check_labels(const torch::Tensor& labels, int64_t num_classes, const char* what) {
  LOOKALIKE_CHECK_ARG(labels.defined() && labels.dim() == 1 && labels.scalar_type() == torch::kLong,
                      what, " must be a 1-d int64 tensor");
  LOOKALIKE_CHECK_ARG(labels.numel() > 0, what, " is empty");
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  const int64_t c = num_classes > 0 ? num_classes : hi + 1;
  LOOKALIKE_CHECK_ARG(lo >= 0 && hi < c, what, " must lie in [0, ", c, "), found ",
                      lo < 0 ? lo : hi);
  LOOKALIKE_CHECK_ARG(c >= 2, "label noise needs at least 2 classes, got ", c);
  return c;
}

// Asked transition matrix of a class-conditional kind.
torch::Tensor asked_transition(const NoiseOptions& o, int64_t c) {
  auto t = torch::zeros({c, c}, torch::kDouble);
  if (o.kind == "symmetric") {
    t.fill_(o.rate / double(c - 1));
    t.diagonal().fill_(1.0 - o.rate);
  } else if (o.kind == "pairflip") {
    for (int64_t i = 0; i < c; ++i) {
      t[i][i] = 1.0 - o.rate;
      t[i][(i + 1) % c] = o.rate;
    }
  } else {  // asymmetric
    LOOKALIKE_CHECK_ARG(o.transition.defined() && o.transition.dim() == 2 &&
                            o.transition.size(0) == c && o.transition.size(1) == c,
                        "asymmetric noise needs a ", c, " x ", c, " transition matrix, got ",
                        o.transition.defined() ? o.transition.sizes() : c10::IntArrayRef{});
    t = o.transition.to(torch::kDouble).cpu().contiguous();
    LOOKALIKE_CHECK_ARG(torch::isfinite(t).all().item<bool>() && t.min().item<double>() >= 0,
                        "transition matrix entries must be finite and >= 0");
    auto rows = t.sum(1);
    const double worst = (rows - 1).abs().max().item<double>();
    LOOKALIKE_CHECK_ARG(worst < 1e-6, "transition matrix rows must sum to 1 (worst row is off by ",
                        worst, ")");
  }
  return t;
}

// Splits n items over the entries of a probability row exactly: floor(p n) each, the rest to
// the largest remainders (ties to the lower index).
std::vector<int64_t> apportion(const double* p, int64_t c, int64_t n) {
  std::vector<int64_t> count(c);
  std::vector<std::pair<double, int64_t>> rem(c);
  int64_t given = 0;
  for (int64_t j = 0; j < c; ++j) {
    const double want = p[j] * double(n);
    count[j] = static_cast<int64_t>(std::floor(want + 1e-9));
    given += count[j];
    rem[j] = {want - double(count[j]), j};
  }
  std::stable_sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (int64_t r = 0; given < n; ++r, ++given) ++count[rem[r % c].second];
  return count;
}

NoiseResult class_conditional(const torch::Tensor& labels, const NoiseOptions& o, int64_t c) {
  auto t = asked_transition(o, c);
  auto y = labels.cpu().contiguous();
  const auto members = detail::members_by_class(y, c);
  auto noisy = y.clone();
  int64_t* np = noisy.data_ptr<int64_t>();
  auto tp = t.accessor<double, 2>();
  for (int64_t k = 0; k < c; ++k) {
    auto& m = members[k];
    if (m.empty()) continue;
    // Seeded shuffle of the class's samples, then consecutive runs go to each target class.
    auto perm = util::permutation(static_cast<int64_t>(m.size()), util::mix_seed(o.seed, k));
    std::vector<double> row(c);
    for (int64_t j = 0; j < c; ++j) row[j] = tp[k][j];
    auto count = apportion(row.data(), c, static_cast<int64_t>(m.size()));
    int64_t pos = 0;
    for (int64_t j = 0; j < c; ++j)
      for (int64_t r = 0; r < count[j]; ++r) np[m[perm[pos++]]] = j;
  }
  return NoiseResult{noisy, noisy.ne(y), t, 0.0};
}

// Instance-dependent noise (the generation of Xia et al., NeurIPS 2020, "Part-dependent label
// noise"/IDN): per-sample flip rate q_i ~ N(rate, instance_std^2) truncated to [0, 1); a random
// projection W_y [D, C] per class scores the other classes from the sample's features; the
// sample keeps its label with probability 1 - q_i, else moves to class j with probability
// q_i softmax(x_i W_y)_j over j != y.
NoiseResult instance_dependent(const torch::Tensor& labels, const NoiseOptions& o, int64_t c) {
  const int64_t n = labels.numel();
  LOOKALIKE_CHECK_ARG(o.features.defined() && o.features.dim() == 2 && o.features.size(0) == n,
                      "instance noise needs features [N = ", n, ", D], got ",
                      o.features.defined() ? o.features.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(o.instance_std >= 0, "instance_std must be >= 0");
  auto x = o.features.to(torch::kFloat).cpu().contiguous();
  LOOKALIKE_CHECK_ARG(torch::isfinite(x).all().item<bool>(),
                      "instance noise: features contain NaN or Inf");
  const int64_t d = x.size(1);
  // Standardise features so the projection's scale does not depend on pixel units.
  x = (x - x.mean(0, true)) / x.std(0, true, true).clamp_min(1e-6);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(util::mix_seed(o.seed, 0x1d1d));
  auto w = torch::randn({c, d, c}, gen, torch::TensorOptions().dtype(torch::kFloat)) /
           std::sqrt(double(d));
  auto y = labels.cpu().contiguous();
  auto noisy = y.clone();
  const int64_t* yp = y.data_ptr<int64_t>();
  int64_t* np = noisy.data_ptr<int64_t>();
  std::mt19937_64 rng(util::mix_seed(o.seed, 0x1d1e));
  std::normal_distribution<double> normal(o.rate, o.instance_std);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto expected = torch::zeros({c, c}, torch::kDouble);
  double* ex = expected.data_ptr<double>();
  std::vector<int64_t> per_class(c, 0);
  for (int64_t s = 0; s < n; s += 4096) {
    const int64_t e = std::min(n, s + 4096);
    auto ys = y.slice(0, s, e);
    // scores[i] = x_i W_{y_i}: gather each sample's class projection.
    auto scores = torch::bmm(x.slice(0, s, e).unsqueeze(1), w.index_select(0, ys)).squeeze(1);
    scores.scatter_(1, ys.unsqueeze(1), -std::numeric_limits<float>::infinity());
    auto p = torch::softmax(scores, 1).to(torch::kDouble).contiguous();
    auto pp = p.accessor<double, 2>();
    for (int64_t i = s; i < e; ++i) {
      double q;
      do q = normal(rng);
      while (q < 0.0 || q >= 1.0);  // truncated to [0, 1)
      const int64_t yi = yp[i];
      ++per_class[yi];
      for (int64_t k = 0; k < c; ++k) ex[yi * c + k] += k == yi ? 1.0 - q : q * pp[i - s][k];
      double u = unit(rng);
      if (u < 1.0 - q) continue;  // keeps its label
      u = (u - (1.0 - q)) / q;    // uniform again, over the flip mass
      int64_t j = 0;
      double acc = 0;
      for (; j < c; ++j) {
        if (j == yi) continue;
        acc += pp[i - s][j];
        if (u < acc) break;
      }
      if (j >= c) j = (yi + 1) % c;  // rounding at the top end
      np[i] = j;
    }
  }
  for (int64_t k = 0; k < c; ++k)
    if (per_class[k] > 0) expected[k] /= double(per_class[k]);
  return NoiseResult{noisy, noisy.ne(y), expected, 0.0};
}

}  // namespace

NoiseResult inject_noise(const torch::Tensor& labels, const NoiseOptions& o) {
  const int64_t c = check_labels(labels, o.num_classes, "inject_noise: labels");
  LOOKALIKE_CHECK_ARG(
      o.kind == "symmetric" || o.kind == "pairflip" || o.kind == "asymmetric" ||
          o.kind == "instance",
      "noise kind must be 'symmetric', 'pairflip', 'asymmetric' or 'instance', got '", o.kind, "'");
  if (o.kind != "asymmetric") {
    LOOKALIKE_CHECK_ARG(o.rate >= 0 && o.rate < 1, "noise rate must be in [0, 1), got ", o.rate);
  }
  NoiseResult r =
      o.kind == "instance" ? instance_dependent(labels, o, c) : class_conditional(labels, o, c);
  r.realised_rate = r.corrupted.to(torch::kDouble).mean().item<double>();
  return r;
}

torch::Tensor realised_transition(const torch::Tensor& clean, const torch::Tensor& noisy,
                                  int64_t num_classes) {
  const int64_t c = check_labels(clean, num_classes, "realised_transition: clean");
  check_labels(noisy, c, "realised_transition: noisy");
  LOOKALIKE_CHECK_ARG(clean.numel() == noisy.numel(), "realised_transition: ", clean.numel(),
                      " clean labels but ", noisy.numel(), " noisy");
  auto counts =
      torch::bincount(clean.cpu() * c + noisy.cpu(), {}, c * c).to(torch::kDouble).view({c, c});
  return counts / counts.sum(1, true).clamp_min(1.0);
}

}  // namespace lookalike::noisy
