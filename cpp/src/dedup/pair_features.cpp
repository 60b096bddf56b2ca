#include "lookalike/dedup/pair_features.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <unordered_set>

#include "lookalike/dedup/text.h"

#include "checks.h"
#include "lookalike/error.h"

namespace lookalike::dedup {

using detail::check_long;

namespace {
// Checks the pairs and inputs; returns the number of rows the inputs share.
int64_t checked_rows(const torch::Tensor& pairs, const PairFeatureInputs& in) {
  check_long(pairs, 2, "pair_features: pairs");
  LOOKALIKE_CHECK_ARG(pairs.size(1) == 2, "pair_features: pairs must be [m, 2]");
  LOOKALIKE_CHECK_ARG(in.embeddings.size() == in.embedding_names.size() &&
                          in.attrs.size() == in.attr_names.size() &&
                          in.numeric.size() == in.attrs.size(),
                      "pair_features: names and columns do not line up");
  int64_t n = -1;
  auto rows_of = [&](int64_t r, const std::string& what) {
    LOOKALIKE_CHECK_ARG(n < 0 || r == n, "pair_features: ", what, " has ", r, " rows, expected ",
                        n);
    n = r;
  };
  for (size_t e = 0; e < in.embeddings.size(); ++e) {
    LOOKALIKE_CHECK_ARG(
        in.embeddings[e].dim() == 2 && in.embeddings[e].scalar_type() == torch::kFloat,
        "pair_features: embedding '", in.embedding_names[e], "' must be float32 [N, d]");
    rows_of(in.embeddings[e].size(0), in.embedding_names[e]);
  }
  if (in.phash.defined()) rows_of(in.phash.size(0), "phash");
  if (!in.titles.empty()) rows_of(static_cast<int64_t>(in.titles.size()), "titles");
  for (size_t a = 0; a < in.attrs.size(); ++a)
    rows_of(static_cast<int64_t>(in.attrs[a].size()), in.attr_names[a]);
  LOOKALIKE_CHECK_ARG(n >= 0, "pair_features: no inputs");
  auto pc = pairs.contiguous();
  const int64_t* pp = pc.data_ptr<int64_t>();
  for (int64_t e = 0; e < 2 * pc.size(0); ++e)
    LOOKALIKE_CHECK_ARG(pp[e] >= 0 && pp[e] < n, "pair_features: row ", pp[e], " outside [0, ", n,
                        ")");
  return n;
}

// The feature columns being built (float64 [m] each) and their names.
struct Columns {
  std::vector<torch::Tensor> cols;
  std::vector<std::string> names;
  void add(torch::Tensor c, std::string name) {
    cols.push_back(std::move(c));
    names.push_back(std::move(name));
  }
};

// 1 - Hamming / 64 of the 64-bit hashes.
torch::Tensor phash_similarity(const int64_t* pp, int64_t m, const torch::Tensor& phash) {
  auto col = torch::empty({m}, torch::kDouble);
  auto h = phash.contiguous();
  const uint8_t* hp = h.data_ptr<uint8_t>();
  for (int64_t e = 0; e < m; ++e) {
    int bits = 0;
    for (int b = 0; b < 8; ++b)
      bits += __builtin_popcount(hp[pp[2 * e] * 8 + b] ^ hp[pp[2 * e + 1] * 8 + b]);
    col[e] = 1.0 - bits / 64.0;
  }
  return col;
}

// Word Jaccard, the shorter/longer word-count ratio, and the share of model numbers and codes
// ("302127-b21", "iphone 11": words of 3+ characters with a digit) both titles carry, over the
// fewer of the two (0 when either has none).
void title_features(const int64_t* pp, int64_t m, const std::vector<std::string>& titles,
                    Columns& out) {
  auto jac = torch::empty({m}, torch::kDouble), len = torch::empty({m}, torch::kDouble);
  auto code = torch::zeros({m}, torch::kDouble);
  double *jp = jac.data_ptr<double>(), *lp = len.data_ptr<double>(), *cp = code.data_ptr<double>();
  std::unordered_map<int64_t, std::vector<std::string>> cache;
  auto words = [&](int64_t r) -> const std::vector<std::string>& {
    auto it = cache.find(r);
    if (it != cache.end()) return it->second;
    auto w = tokenize(titles[static_cast<size_t>(r)]);
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    return cache.emplace(r, std::move(w)).first->second;
  };
  auto is_code = [](const std::string& w) {
    return w.size() >= 3 && std::any_of(w.begin(), w.end(), [](char c) {
             return std::isdigit(static_cast<unsigned char>(c));
           });
  };
  for (int64_t e = 0; e < m; ++e) {
    const auto& a = words(pp[2 * e]);
    const auto& b = words(pp[2 * e + 1]);
    std::vector<std::string> inter;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(inter));
    const double uni = double(a.size() + b.size() - inter.size());
    jp[e] = uni > 0 ? inter.size() / uni : 0.0;
    const double la = double(a.size()), lb = double(b.size());
    lp[e] = std::max(la, lb) > 0 ? std::min(la, lb) / std::max(la, lb) : 0.0;
    std::vector<std::string> ca, cb, shared;
    for (const auto& w : a)
      if (is_code(w)) ca.push_back(w);
    for (const auto& w : b)
      if (is_code(w)) cb.push_back(w);
    if (ca.empty() || cb.empty()) continue;
    std::set_intersection(ca.begin(), ca.end(), cb.begin(), cb.end(), std::back_inserter(shared));
    cp[e] = double(shared.size()) / double(std::min(ca.size(), cb.size()));
  }
  out.add(jac, "title_jaccard");
  out.add(len, "title_length_ratio");
  out.add(code, "title_code_match");
}

// A categorical attribute: 1 equal (case-insensitive), 0 different, 0.5 unknown. A numeric one:
// min/max ratio and a "present" flag (0 ratio when either is missing).
void attribute_features(const int64_t* pp, int64_t m, const std::vector<std::string>& v,
                        const std::string& name, bool numeric, Columns& out) {
  auto c1 = torch::empty({m}, torch::kDouble);
  auto c2 = torch::empty({m}, torch::kDouble);
  for (int64_t e = 0; e < m; ++e) {
    const std::string& x = v[static_cast<size_t>(pp[2 * e])];
    const std::string& y = v[static_cast<size_t>(pp[2 * e + 1])];
    if (numeric) {
      char *ex = nullptr, *ey = nullptr;
      const double dx = std::strtod(x.c_str(), &ex), dy = std::strtod(y.c_str(), &ey);
      const bool ok = !x.empty() && !y.empty() && *ex == 0 && *ey == 0 && std::isfinite(dx) &&
                      std::isfinite(dy) && dx > 0 && dy > 0;
      c1[e] = ok ? std::min(dx, dy) / std::max(dx, dy) : 0.0;
      c2[e] = ok ? 1.0 : 0.0;
    } else {
      const bool unknown = x.empty() || y.empty();
      const bool eq =
          x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char p, char q) {
            return std::tolower(static_cast<unsigned char>(p)) ==
                   std::tolower(static_cast<unsigned char>(q));
          });
      c1[e] = unknown ? 0.5 : eq ? 1.0 : 0.0;
    }
  }
  out.add(c1, (numeric ? "ratio_" : "same_") + name);
  if (numeric) out.add(c2, "has_" + name);
}
}  // namespace

std::pair<torch::Tensor, std::vector<std::string>> pair_features(const torch::Tensor& pairs,
                                                                 const PairFeatureInputs& in) {
  checked_rows(pairs, in);
  auto pc = pairs.contiguous();
  const int64_t m = pc.size(0);
  const int64_t* pp = pc.data_ptr<int64_t>();
  Columns out;
  auto a_idx = pc.select(1, 0), b_idx = pc.select(1, 1);
  for (size_t e = 0; e < in.embeddings.size(); ++e) {
    const auto& x = in.embeddings[e];
    out.add((x.index_select(0, a_idx) * x.index_select(0, b_idx)).sum(1).to(torch::kDouble),
            "cos_" + in.embedding_names[e]);
  }
  if (in.phash.defined()) out.add(phash_similarity(pp, m, in.phash), "phash_similarity");
  if (!in.titles.empty()) title_features(pp, m, in.titles, out);
  for (size_t a = 0; a < in.attrs.size(); ++a)
    attribute_features(pp, m, in.attrs[a], in.attr_names[a], in.numeric[a], out);
  LOOKALIKE_CHECK_ARG(!out.cols.empty(), "pair_features: no features");
  return {torch::stack(out.cols, 1), out.names};
}

}  // namespace lookalike::dedup
