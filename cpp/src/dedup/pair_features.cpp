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

std::pair<torch::Tensor, std::vector<std::string>> pair_features(const torch::Tensor& pairs,
                                                                 const PairFeatureInputs& in) {
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
  const int64_t m = pc.size(0);
  const int64_t* pp = pc.data_ptr<int64_t>();
  for (int64_t e = 0; e < 2 * m; ++e)
    LOOKALIKE_CHECK_ARG(pp[e] >= 0 && pp[e] < n, "pair_features: row ", pp[e], " outside [0, ", n,
                        ")");
  std::vector<std::string> names;
  std::vector<torch::Tensor> cols;
  auto a_idx = pc.select(1, 0), b_idx = pc.select(1, 1);
  for (size_t e = 0; e < in.embeddings.size(); ++e) {
    const auto& x = in.embeddings[e];
    cols.push_back((x.index_select(0, a_idx) * x.index_select(0, b_idx)).sum(1).to(torch::kDouble));
    names.push_back("cos_" + in.embedding_names[e]);
  }
  if (in.phash.defined()) {
    auto col = torch::empty({m}, torch::kDouble);
    auto h = in.phash.contiguous();
    const uint8_t* hp = h.data_ptr<uint8_t>();
    for (int64_t e = 0; e < m; ++e) {
      int bits = 0;
      for (int b = 0; b < 8; ++b)
        bits += __builtin_popcount(hp[pp[2 * e] * 8 + b] ^ hp[pp[2 * e + 1] * 8 + b]);
      col[e] = 1.0 - bits / 64.0;
    }
    cols.push_back(col);
    names.push_back("phash_similarity");
  }
  if (!in.titles.empty()) {
    auto jac = torch::empty({m}, torch::kDouble), len = torch::empty({m}, torch::kDouble);
    double* jp = jac.data_ptr<double>();
    double* lp = len.data_ptr<double>();
    std::unordered_map<int64_t, std::vector<std::string>> cache;
    auto words = [&](int64_t r) -> const std::vector<std::string>& {
      auto it = cache.find(r);
      if (it != cache.end()) return it->second;
      auto w = tokenize(in.titles[static_cast<size_t>(r)]);
      std::sort(w.begin(), w.end());
      w.erase(std::unique(w.begin(), w.end()), w.end());
      return cache.emplace(r, std::move(w)).first->second;
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
    }
    // Model numbers and codes ("302127-b21", "iphone 11"): words of 3+ characters with a digit
    // shared by both titles, over the fewer of the two; 0 when either has none.
    auto code = torch::zeros({m}, torch::kDouble);
    double* cp = code.data_ptr<double>();
    auto is_code = [](const std::string& w) {
      return w.size() >= 3 && std::any_of(w.begin(), w.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
             });
    };
    for (int64_t e = 0; e < m; ++e) {
      std::vector<std::string> a, b, inter;
      for (const auto& w : words(pp[2 * e]))
        if (is_code(w)) a.push_back(w);
      for (const auto& w : words(pp[2 * e + 1]))
        if (is_code(w)) b.push_back(w);
      if (a.empty() || b.empty()) continue;
      std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(inter));
      cp[e] = double(inter.size()) / double(std::min(a.size(), b.size()));
    }
    cols.push_back(jac), cols.push_back(len), cols.push_back(code);
    names.push_back("title_jaccard"), names.push_back("title_length_ratio"),
        names.push_back("title_code_match");
  }
  for (size_t a = 0; a < in.attrs.size(); ++a) {
    const auto& v = in.attrs[a];
    auto c1 = torch::empty({m}, torch::kDouble);
    auto c2 = torch::empty({m}, torch::kDouble);
    for (int64_t e = 0; e < m; ++e) {
      const std::string& x = v[static_cast<size_t>(pp[2 * e])];
      const std::string& y = v[static_cast<size_t>(pp[2 * e + 1])];
      if (in.numeric[a]) {
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
    cols.push_back(c1);
    names.push_back((in.numeric[a] ? "ratio_" : "same_") + in.attr_names[a]);
    if (in.numeric[a]) cols.push_back(c2), names.push_back("has_" + in.attr_names[a]);
  }
  LOOKALIKE_CHECK_ARG(!cols.empty(), "pair_features: no features");
  return {torch::stack(cols, 1), names};
}

}  // namespace lookalike::dedup
