#include "lookalike/dedup/matcher.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

#include "lookalike/error.h"
#include "lookalike/eval/prf.h"
#include "lookalike/util/files.h"

namespace lookalike::dedup {

Matcher::Matcher(MatcherOptions options) : options_(options) {
  LOOKALIKE_CHECK_ARG(options_.l2 > 0 && std::isfinite(options_.l2),
                      "Matcher: l2 must be a positive number, got ", options_.l2);
  LOOKALIKE_CHECK_ARG(options_.max_iter >= 1, "Matcher: max_iter must be >= 1");
  set_threshold(options_.threshold);
}

void Matcher::set_threshold(double t) {
  LOOKALIKE_CHECK_ARG(t >= 0 && t <= 1, "Matcher: threshold must be in [0, 1], got ", t);
  options_.threshold = t;
}

torch::Tensor Matcher::standardise(const torch::Tensor& x, const char* what) const {
  LOOKALIKE_CHECK_ARG(x.dim() == 2 && x.is_floating_point(), "Matcher.", what,
                      ": features must be a float matrix [m, f], got ", x.sizes(), " ",
                      x.scalar_type());
  auto xd = x.to(torch::kDouble);
  LOOKALIKE_CHECK_ARG(torch::isfinite(xd).all().item<bool>(), "Matcher.", what,
                      ": features contain NaN or Inf");
  if (!mean_.defined()) return xd;
  LOOKALIKE_CHECK_ARG(x.size(1) == mean_.size(0), "Matcher.", what, ": ", x.size(1),
                      " features, the matcher was fitted on ", mean_.size(0));
  return (xd - mean_) / scale_;
}

void Matcher::fit(const torch::Tensor& x, const torch::Tensor& y) {
  coef_ = mean_ = scale_ = torch::Tensor();
  auto xd = standardise(x, "fit");
  const int64_t m = xd.size(0), f = xd.size(1);
  LOOKALIKE_CHECK_ARG(y.dim() == 1 && y.size(0) == m && !y.is_floating_point(),
                      "Matcher.fit: labels must be bool or integer [", m, "], got ", y.sizes(), " ",
                      y.scalar_type());
  auto yd = y.to(torch::kDouble);
  LOOKALIKE_CHECK_ARG((yd.eq(0) | yd.eq(1)).all().item<bool>(), "Matcher.fit: labels must be 0/1");
  const double pos = yd.sum().item<double>();
  LOOKALIKE_CHECK_ARG(pos > 0 && pos < m,
                      "Matcher.fit: both matching and non-matching pairs are needed (", pos, " of ",
                      m, " match)");
  auto mean = xd.mean(0);
  auto scale = xd.std(0, /*unbiased=*/false);
  scale = torch::where(scale > 1e-12, scale, torch::ones_like(scale));  // constant columns
  auto z = torch::cat({(xd - mean) / scale, torch::ones({m, 1}, torch::kDouble)}, 1);
  auto w = torch::zeros({f + 1}, torch::kDouble);
  auto reg = torch::full({f + 1}, options_.l2, torch::kDouble);
  reg[f] = 0;  // the intercept is not penalised
  int it = 0;
  for (; it < options_.max_iter; ++it) {  // Newton: H = Z'SZ + diag(reg), g = Z'(p - y) + reg*w
    auto p = torch::sigmoid(torch::mv(z, w));
    auto grad = torch::mv(z.t(), p - yd) + reg * w;
    auto s = p * (1 - p);
    auto h = torch::mm(z.t(), z * s.unsqueeze(1)) + torch::diag(reg + 1e-12);
    auto step = torch::linalg_solve(h, grad.unsqueeze(1)).squeeze(1);
    w = w - step;
    if (step.abs().max().item<double>() < options_.tol) {
      ++it;
      break;
    }
  }
  iterations_ = it;
  mean_ = mean;
  scale_ = scale;
  coef_ = w.slice(0, 0, f).clone();
  intercept_ = w[f].item<double>();
}

Matcher Matcher::from_parameters(const torch::Tensor& coef, double intercept,
                                 const torch::Tensor& mean, const torch::Tensor& scale,
                                 MatcherOptions options) {
  const int64_t f = coef.defined() ? coef.numel() : 0;
  LOOKALIKE_CHECK_ARG(
      f > 0 && coef.dim() == 1 && mean.defined() && scale.defined() &&
          mean.sizes() == coef.sizes() && scale.sizes() == coef.sizes(),
      "Matcher.from_parameters: coef, mean and scale must be vectors of one length");
  auto c = coef.to(torch::kDouble), m = mean.to(torch::kDouble), s = scale.to(torch::kDouble);
  LOOKALIKE_CHECK_ARG(torch::isfinite(c).all().item<bool>() &&
                          torch::isfinite(m).all().item<bool>() && (s > 0).all().item<bool>() &&
                          std::isfinite(intercept),
                      "Matcher.from_parameters: parameters must be finite and scale > 0");
  Matcher out(options);
  out.coef_ = c.clone(), out.mean_ = m.clone(), out.scale_ = s.clone();
  out.intercept_ = intercept;
  return out;
}

torch::Tensor Matcher::predict_proba(const torch::Tensor& x) const {
  LOOKALIKE_CHECK_ARG(fitted(), "Matcher: not fitted");
  return torch::sigmoid(torch::mv(standardise(x, "predict"), coef_) + intercept_);
}

torch::Tensor Matcher::predict(const torch::Tensor& x) const {
  return predict_proba(x).ge(options_.threshold);
}

ThresholdChoice best_f1_threshold(const torch::Tensor& scores, const torch::Tensor& labels) {
  LOOKALIKE_CHECK_ARG(scores.dim() == 1 && scores.is_floating_point() && labels.dim() == 1 &&
                          labels.size(0) == scores.size(0),
                      "best_f1_threshold: scores (float [m]) and labels [m] must line up");
  auto s = scores.to(torch::kDouble).contiguous();
  auto l = labels.to(torch::kBool).contiguous();
  const int64_t m = s.size(0);
  const double* sp = s.data_ptr<double>();
  const bool* lp = l.data_ptr<bool>();
  const int64_t positives = l.sum().item<int64_t>();
  LOOKALIKE_CHECK_ARG(positives > 0, "best_f1_threshold: no positive labels");
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sp[a] > sp[b]; });
  ThresholdChoice best;
  int64_t tp = 0;
  for (int64_t i = 0; i < m; ++i) {
    tp += lp[order[static_cast<size_t>(i)]];
    // A threshold can only sit between distinct scores.
    if (i + 1 < m && sp[order[static_cast<size_t>(i + 1)]] == sp[order[static_cast<size_t>(i)]])
      continue;
    const auto q = eval::prf(double(tp), double(i + 1), double(positives));
    if (q.f1 > best.f1) best = {sp[order[static_cast<size_t>(i)]], q.precision, q.recall, q.f1};
  }
  return best;
}

namespace {
const char* kMatcherFormat = "lookalike.Matcher/1";

std::vector<double> values(const torch::Tensor& t) {
  auto c = t.to(torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}
}  // namespace

void save_matcher(const Matcher& m, const std::vector<std::string>& features,
                  const std::string& path) {
  LOOKALIKE_CHECK_ARG(m.fitted(), "save_matcher: the matcher is not fitted");
  LOOKALIKE_CHECK_ARG(features.size() == static_cast<size_t>(m.coef().numel()),
                      "save_matcher: ", features.size(), " feature names for ", m.coef().numel(),
                      " weights");
  nlohmann::ordered_json j = {{"format", kMatcherFormat},  {"features", features},
                              {"coef", values(m.coef())},  {"intercept", m.intercept()},
                              {"mean", values(m.mean())},  {"scale", values(m.scale())},
                              {"threshold", m.threshold()}};
  util::write_file_atomic(path, j.dump(2) + "\n");
}

std::pair<Matcher, std::vector<std::string>> load_matcher(const std::string& path) {
  LOOKALIKE_CHECK_FILE(util::file_exists(path), "matcher file '", path, "' does not exist");
  const std::string text = util::read_file(path);
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("format", "") != kMatcherFormat) throw std::invalid_argument("");
    auto tensor = [&](const char* key) {
      return torch::tensor(j.at(key).get<std::vector<double>>(), torch::kDouble);
    };
    auto names = j.at("features").get<std::vector<std::string>>();
    auto coef = tensor("coef");
    LOOKALIKE_CHECK_FILE(static_cast<int64_t>(names.size()) == coef.numel(), "'", path,
                         "': ", names.size(), " feature names for ", coef.numel(), " weights");
    MatcherOptions o;
    o.threshold = j.at("threshold").get<double>();
    return {Matcher::from_parameters(coef, j.at("intercept").get<double>(), tensor("mean"),
                                     tensor("scale"), o),
            names};
  } catch (const FileError&) {
    throw;
  } catch (const std::exception&) {
    throw FileError(detail::concat("'", path, "' is not a lookalike matcher file"));
  }
}

}  // namespace lookalike::dedup
