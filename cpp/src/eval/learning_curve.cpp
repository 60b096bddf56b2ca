#include "lookalike/eval/learning_curve.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_groups(const torch::Tensor& groups, int64_t t, int64_t g) {
  LOOKALIKE_CHECK_ARG(groups.defined() && groups.dim() == 1 && groups.size(0) == t &&
                          groups.scalar_type() == torch::kLong,
                      "learning curves: groups must be int64 [", t, "]");
  LOOKALIKE_CHECK_ARG(g >= 0 && (t == 0 || (groups.min().item<int64_t>() >= -1 &&
                                            groups.max().item<int64_t>() < g)),
                      "learning curves: groups must lie in [-1, ", g, ")");
}

// Median of the finite values (NaN when none).
double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Positives needed by one tag: its points (positives p, AP a), in order.
double needed(const std::vector<double>& p, const std::vector<double>& a, double target) {
  double prev_x = kNaN, prev_a = kNaN;
  for (size_t i = 0; i < p.size(); ++i) {
    if (std::isnan(a[i])) continue;
    const double x = std::log1p(p[i]);
    if (a[i] >= target) {
      if (std::isnan(prev_a)) return p[i];
      const double f = (target - prev_a) / (a[i] - prev_a);
      return std::expm1(prev_x + f * (x - prev_x));
    }
    prev_x = x, prev_a = a[i];
  }
  return kNaN;
}

}  // namespace

torch::Tensor group_mean(const torch::Tensor& values, const torch::Tensor& groups, int64_t g) {
  LOOKALIKE_CHECK_ARG(values.defined() && values.dim() == 1 && values.is_floating_point(),
                      "group_mean: values must be float [T]");
  check_groups(groups, values.size(0), g);
  const auto v = values.to(torch::kDouble).contiguous();
  const auto gr = groups.contiguous();
  std::vector<double> sum(static_cast<size_t>(g), 0.0), count(static_cast<size_t>(g), 0.0);
  for (int64_t t = 0; t < v.size(0); ++t) {
    const int64_t k = gr[t].item<int64_t>();
    const double x = v[t].item<double>();
    if (k < 0 || std::isnan(x)) continue;
    sum[static_cast<size_t>(k)] += x, count[static_cast<size_t>(k)] += 1;
  }
  auto out = torch::empty({g}, torch::kFloat);
  for (int64_t k = 0; k < g; ++k)
    out[k] = count[static_cast<size_t>(k)] > 0
                 ? sum[static_cast<size_t>(k)] / count[static_cast<size_t>(k)]
                 : kNaN;
  return out;
}

CurveSummary summarise_curves(const torch::Tensor& positives, const torch::Tensor& ap,
                              const torch::Tensor& groups, int64_t g, double target) {
  LOOKALIKE_CHECK_ARG(positives.defined() && ap.defined() && positives.dim() == 2 &&
                          positives.sizes() == ap.sizes() && ap.is_floating_point(),
                      "summarise_curves: positives and ap must both be [F, T]");
  const int64_t f = ap.size(0), t = ap.size(1);
  check_groups(groups, t, g);
  const auto p = positives.to(torch::kDouble).contiguous();
  const auto a = ap.to(torch::kDouble).contiguous();
  if (f > 1)
    LOOKALIKE_CHECK_ARG((p.slice(0, 1) >= p.slice(0, 0, f - 1)).all().item<bool>(),
                        "summarise_curves: each tag's positives must be ascending along F");
  CurveSummary out;
  out.group_ap = torch::empty({g, f}, torch::kFloat);
  out.group_positives = torch::empty({g, f}, torch::kFloat);
  for (int64_t i = 0; i < f; ++i) {
    out.group_ap.select(1, i).copy_(group_mean(a[i], groups, g));
    for (int64_t k = 0; k < g; ++k) {
      std::vector<double> v;
      for (int64_t j = 0; j < t; ++j)
        if (groups[j].item<int64_t>() == k) v.push_back(p[i][j].item<double>());
      out.group_positives[k][i] = median(v);
    }
  }
  out.tag_needed = torch::empty({t}, torch::kFloat);
  std::vector<std::vector<double>> reached(static_cast<size_t>(g));
  std::vector<double> members(static_cast<size_t>(g), 0.0);
  for (int64_t j = 0; j < t; ++j) {
    std::vector<double> pj(static_cast<size_t>(f)), aj(static_cast<size_t>(f));
    for (int64_t i = 0; i < f; ++i)
      pj[static_cast<size_t>(i)] = p[i][j].item<double>(),
      aj[static_cast<size_t>(i)] = a[i][j].item<double>();
    const double n = needed(pj, aj, target);
    out.tag_needed[j] = n;
    const int64_t k = groups[j].item<int64_t>();
    if (k < 0) continue;
    members[static_cast<size_t>(k)] += 1;
    if (!std::isnan(n)) reached[static_cast<size_t>(k)].push_back(n);
  }
  out.group_needed = torch::empty({g}, torch::kFloat);
  out.group_reached = torch::empty({g}, torch::kFloat);
  for (int64_t k = 0; k < g; ++k) {
    const auto& r = reached[static_cast<size_t>(k)];
    out.group_needed[k] = median(r);
    out.group_reached[k] = members[static_cast<size_t>(k)] > 0
                               ? static_cast<double>(r.size()) / members[static_cast<size_t>(k)]
                               : kNaN;
  }
  return out;
}

}  // namespace lookalike::eval
