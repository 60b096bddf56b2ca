#include "lookalike/dedup/comparison.h"

#include <torch/torch.h>

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checks.h"
#include "lookalike/error.h"

namespace lookalike::dedup {

using detail::check_long;

namespace {
int64_t key(int64_t q, int64_t c) { return (q << 32) ^ c; }
}  // namespace

PipelineComparison compare_pipelines(const std::vector<torch::Tensor>& candidates,
                                     const std::vector<torch::Tensor>& positive,
                                     const torch::Tensor& query_rows,
                                     const std::vector<int64_t>& ns) {
  const size_t P = candidates.size();
  LOOKALIKE_CHECK_ARG(P >= 1 && P <= 16 && positive.size() == P,
                      "compare_pipelines: need 1..16 pipelines with one positive mask each");
  LOOKALIKE_CHECK_ARG(!ns.empty() && std::is_sorted(ns.begin(), ns.end()) && ns.front() >= 1,
                      "compare_pipelines: ns must be ascending and >= 1");
  check_long(query_rows, 1, "compare_pipelines: query_rows");
  const int64_t q = query_rows.size(0);
  auto qr = query_rows.contiguous();
  const int64_t* qp = qr.data_ptr<int64_t>();
  PipelineComparison out;
  out.ns = ns;
  out.found.assign(P, std::vector<int64_t>(ns.size(), 0));
  out.union_found.assign(ns.size(), 0);
  out.overlap.assign(P, std::vector<int64_t>(P, 0));
  out.venn.assign(size_t{1} << P, 0);
  std::vector<std::unordered_map<int64_t, uint32_t>> first_n(ns.size());  // pair -> pipeline mask
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> pair_of;
  for (size_t p = 0; p < P; ++p) {
    check_long(candidates[p], 2, "compare_pipelines: candidates");
    LOOKALIKE_CHECK_ARG(
        candidates[p].size(0) == q && positive[p].sizes() == candidates[p].sizes() &&
            positive[p].scalar_type() == torch::kBool,
        "compare_pipelines: pipeline ", p, ": candidates ", candidates[p].sizes(), " and positive ",
        positive[p].sizes(), " must both be [", q, ", n] (positive bool)");
    auto c = candidates[p].contiguous();
    auto m = positive[p].contiguous();
    const int64_t k = c.size(1);
    const int64_t* cp = c.data_ptr<int64_t>();
    const bool* mp = m.data_ptr<bool>();
    for (int64_t i = 0; i < q; ++i)
      for (int64_t j = 0; j < k; ++j) {
        if (!mp[i * k + j] || cp[i * k + j] < 0) continue;
        const int64_t kk = key(qp[i], cp[i * k + j]);
        pair_of.emplace(kk, std::make_pair(qp[i], cp[i * k + j]));
        for (size_t t = 0; t < ns.size(); ++t)
          if (j < ns[t]) {
            uint32_t& mask = first_n[t][kk];
            if (!(mask >> p & 1)) ++out.found[p][t];
            mask |= 1u << p;
          }
      }
  }
  for (size_t t = 0; t < ns.size(); ++t)
    out.union_found[t] = static_cast<int64_t>(first_n[t].size());
  std::vector<std::vector<int64_t>> only(P);
  for (const auto& [kk, mask] : first_n.back()) {
    ++out.venn[mask];
    for (size_t a = 0; a < P; ++a)
      for (size_t b = 0; b < P; ++b)
        if ((mask >> a & 1) && (mask >> b & 1)) ++out.overlap[a][b];
    if (__builtin_popcount(mask) == 1) {
      const auto& pr = pair_of[kk];
      auto& v = only[static_cast<size_t>(__builtin_ctz(mask))];
      v.push_back(pr.first);
      v.push_back(pr.second);
    }
  }
  for (auto& v : only) {
    // Sorted by (query, candidate) so the output does not depend on hash-map order.
    std::vector<std::pair<int64_t, int64_t>> prs;
    for (size_t i = 0; i < v.size(); i += 2) prs.emplace_back(v[i], v[i + 1]);
    std::sort(prs.begin(), prs.end());
    auto t = torch::empty({static_cast<int64_t>(prs.size()), 2}, torch::kLong);
    for (size_t i = 0; i < prs.size(); ++i)
      t[static_cast<int64_t>(i)][0] = prs[i].first, t[static_cast<int64_t>(i)][1] = prs[i].second;
    out.only.push_back(t);
  }
  return out;
}

namespace {
using util::OptionsJson;

// {n: value} over the comparison's ns.
template <class F>
OptionsJson by_n(const std::vector<int64_t>& ns, F value) {
  OptionsJson row = OptionsJson::object();
  for (size_t t = 0; t < ns.size(); ++t) row[std::to_string(ns[t])] = value(t);
  return row;
}
}  // namespace

OptionsJson summarise(const PipelineComparison& cmp, const std::vector<std::string>& names,
                      int64_t true_pairs, const std::string& baseline) {
  LOOKALIKE_CHECK_ARG(names.size() == cmp.found.size(), "summarise: ", names.size(), " names for ",
                      cmp.found.size(), " pipelines");
  const auto& ns = cmp.ns;
  const size_t P = names.size();
  // Rows: each pipeline, then the union; counts per n.
  std::vector<std::string> rows(names);
  rows.push_back("union");
  auto count = [&](size_t r, size_t t) { return r < P ? cmp.found[r][t] : cmp.union_found[t]; };
  OptionsJson out = OptionsJson::object();
  out["found"] = OptionsJson::object();
  for (size_t r = 0; r <= P; ++r)
    out["found"][rows[r]] = by_n(ns, [&](size_t t) { return count(r, t); });
  const bool recall = true_pairs > 0;
  if (recall) {
    out["pair_recall"] = OptionsJson::object();
    for (size_t r = 0; r <= P; ++r)
      out["pair_recall"][rows[r]] =
          by_n(ns, [&](size_t t) { return double(count(r, t)) / true_pairs; });
  }
  const auto b = std::find(names.begin(), names.end(), baseline);
  if (!baseline.empty() && b != names.end()) {
    const size_t bi = static_cast<size_t>(b - names.begin());
    OptionsJson gain = OptionsJson::object(), relative = OptionsJson::object();
    for (size_t r = 0; r <= P; ++r) {
      if (r == bi) continue;
      if (recall) {
        gain[rows[r]] = by_n(ns, [&](size_t t) {
          return double(count(r, t)) / true_pairs - double(count(bi, t)) / true_pairs;
        });
        relative[rows[r]] = by_n(ns, [&](size_t t) -> OptionsJson {
          const double base = double(count(bi, t)) / true_pairs;
          if (base == 0) return nullptr;
          return (double(count(r, t)) / true_pairs) / base - 1;
        });
      } else {
        gain[rows[r]] = by_n(ns, [&](size_t t) { return count(r, t) - count(bi, t); });
      }
    }
    out["gain_over_" + baseline] = gain;
    if (recall) out["relative_gain_over_" + baseline] = relative;
  }
  out["overlap_at_n"] = ns.back();
  OptionsJson pairs = OptionsJson::object(), share = OptionsJson::object();
  for (size_t a = 0; a < P; ++a) {
    pairs[names[a]] = OptionsJson::object();
    share[names[a]] = OptionsJson::object();
    const int64_t found_max = cmp.found[a].back();
    for (size_t c = 0; c < P; ++c) {
      pairs[names[a]][names[c]] = cmp.overlap[a][c];
      share[names[a]][names[c]] =
          found_max ? OptionsJson(double(cmp.overlap[a][c]) / found_max) : OptionsJson(nullptr);
    }
  }
  out["overlap_pairs"] = pairs;
  out["overlap_share"] = share;
  OptionsJson venn = OptionsJson::object();
  for (size_t mask = 1; mask < cmp.venn.size(); ++mask) {
    if (!cmp.venn[mask]) continue;
    std::string key;
    for (size_t p = 0; p < P; ++p)
      if (mask >> p & 1) key += (key.empty() ? "" : "&") + names[p];
    venn[key] = cmp.venn[mask];
  }
  out["venn"] = venn;
  return out;
}

}  // namespace lookalike::dedup
