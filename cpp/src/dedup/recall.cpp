#include "lookalike/dedup/recall.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "lookalike/dedup/text.h"
#include "lookalike/error.h"

#ifdef LOOKALIKE_HAVE_FAISS
#include <faiss/IndexBinaryFlat.h>
#endif

namespace lookalike::dedup {

namespace {

void check_long(const torch::Tensor& t, int64_t dim, const char* what) {
  LOOKALIKE_CHECK_ARG(t.defined() && t.dim() == dim && t.scalar_type() == torch::kLong, what,
                      " must be int64 with ", dim, " dimension(s), got ",
                      t.defined() ? t.sizes() : at::IntArrayRef{}, " ",
                      t.defined() ? t.scalar_type() : torch::kLong);
}

int64_t key(int64_t q, int64_t c) { return (q << 32) ^ c; }

}  // namespace

std::pair<torch::Tensor, torch::Tensor> drop_self(const torch::Tensor& ids,
                                                  const torch::Tensor& scores, int64_t n) {
  check_long(ids, 2, "drop_self: ids");
  LOOKALIKE_CHECK_ARG(scores.sizes() == ids.sizes() && scores.scalar_type() == torch::kFloat,
                      "drop_self: scores must be float32 shaped like ids ", ids.sizes());
  LOOKALIKE_CHECK_ARG(n >= 1, "drop_self: n must be >= 1");
  const int64_t rows = ids.size(0), k = ids.size(1);
  auto oi = torch::full({rows, n}, -1, torch::kLong);
  auto os = torch::zeros({rows, n}, torch::kFloat);
  auto ic = ids.contiguous();
  auto sc = scores.contiguous();
  const int64_t* ip = ic.data_ptr<int64_t>();
  const float* sp = sc.data_ptr<float>();
  int64_t* oip = oi.data_ptr<int64_t>();
  float* osp = os.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t w = 0;
    for (int64_t j = 0; j < k && w < n; ++j) {
      const int64_t c = ip[r * k + j];
      if (c == r || c < 0) continue;
      oip[r * n + w] = c;
      osp[r * n + w] = sp[r * k + j];
      ++w;
    }
  }
  return {oi, os};
}

std::pair<torch::Tensor, torch::Tensor> hamming_candidates(const torch::Tensor& codes, int64_t n) {
  LOOKALIKE_CHECK_ARG(
      codes.dim() == 2 && codes.size(1) == 8 && codes.scalar_type() == torch::kUInt8,
      "hamming_candidates: codes must be uint8 [N, 8] (64-bit hashes), got ", codes.sizes(), " ",
      codes.scalar_type());
  LOOKALIKE_CHECK_ARG(n >= 1, "hamming_candidates: n must be >= 1");
#ifdef LOOKALIKE_HAVE_FAISS
  const int64_t rows = codes.size(0);
  const int64_t k = std::min(rows, n + 1);
  auto c = codes.contiguous();
  faiss::IndexBinaryFlat index(64);
  index.add(rows, c.data_ptr<uint8_t>());
  std::vector<int32_t> dist(static_cast<size_t>(rows * k));
  auto ids = torch::empty({rows, k}, torch::kLong);
  static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t));
  index.search(rows, c.data_ptr<uint8_t>(), k, dist.data(),
               reinterpret_cast<faiss::Index::idx_t*>(ids.data_ptr<int64_t>()));
  auto scores = torch::tensor(std::vector<float>(dist.begin(), dist.end())).view({rows, k});
  return drop_self(ids, scores, n);
#else
  throw InvalidArgument("hamming_candidates: this build has no FAISS (binary index)");
#endif
}

torch::Tensor same_group(const torch::Tensor& query_rows, const torch::Tensor& ids,
                         const torch::Tensor& groups) {
  check_long(query_rows, 1, "same_group: query_rows");
  check_long(ids, 2, "same_group: ids");
  check_long(groups, 1, "same_group: groups");
  LOOKALIKE_CHECK_ARG(ids.size(0) == query_rows.size(0), "same_group: ", ids.size(0),
                      " candidate rows for ", query_rows.size(0), " queries");
  const int64_t n = groups.size(0), q = ids.size(0), k = ids.size(1);
  auto out = torch::zeros({q, k}, torch::kBool);
  auto g = groups.contiguous();
  auto qr = query_rows.contiguous();
  auto ic = ids.contiguous();
  const int64_t *gp = g.data_ptr<int64_t>(), *qp = qr.data_ptr<int64_t>(),
                *ip = ic.data_ptr<int64_t>();
  bool* op = out.data_ptr<bool>();
  for (int64_t i = 0; i < q; ++i) {
    LOOKALIKE_CHECK_ARG(qp[i] >= 0 && qp[i] < n, "same_group: query row ", qp[i], " outside [0, ",
                        n, ")");
    for (int64_t j = 0; j < k; ++j) {
      const int64_t c = ip[i * k + j];
      LOOKALIKE_CHECK_ARG(c >= -1 && c < n, "same_group: candidate ", c, " outside [-1, ", n, ")");
      op[i * k + j] = c >= 0 && c != qp[i] && gp[c] == gp[qp[i]];
    }
  }
  return out;
}

int64_t true_pairs(const torch::Tensor& query_rows, const torch::Tensor& groups) {
  check_long(query_rows, 1, "true_pairs: query_rows");
  check_long(groups, 1, "true_pairs: groups");
  std::unordered_map<int64_t, int64_t> size;
  auto g = groups.contiguous();
  const int64_t* gp = g.data_ptr<int64_t>();
  for (int64_t i = 0; i < g.size(0); ++i) ++size[gp[i]];
  int64_t total = 0;
  auto qr = query_rows.contiguous();
  for (int64_t i = 0; i < qr.size(0); ++i) {
    const int64_t r = qr.data_ptr<int64_t>()[i];
    LOOKALIKE_CHECK_ARG(r >= 0 && r < g.size(0), "true_pairs: query row ", r, " outside [0, ",
                        g.size(0), ")");
    total += size[gp[r]] - 1;
  }
  return total;
}

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

torch::Tensor lookup_scores(const torch::Tensor& pairs, const torch::Tensor& ids,
                            const torch::Tensor& scores, float fill) {
  check_long(pairs, 2, "lookup_scores: pairs");
  check_long(ids, 2, "lookup_scores: ids");
  LOOKALIKE_CHECK_ARG(pairs.size(1) == 2, "lookup_scores: pairs must be [m, 2]");
  LOOKALIKE_CHECK_ARG(scores.sizes() == ids.sizes() && scores.scalar_type() == torch::kFloat,
                      "lookup_scores: scores must be float32 shaped like ids");
  auto pc = pairs.contiguous();
  auto ic = ids.contiguous();
  auto sc = scores.contiguous();
  const int64_t m = pc.size(0), rows = ic.size(0), k = ic.size(1);
  auto out = torch::full({m}, fill, torch::kFloat);
  const int64_t *pp = pc.data_ptr<int64_t>(), *ip = ic.data_ptr<int64_t>();
  const float* sp = sc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  for (int64_t e = 0; e < m; ++e) {
    const int64_t q = pp[2 * e], c = pp[2 * e + 1];
    LOOKALIKE_CHECK_ARG(q >= 0 && q < rows, "lookup_scores: pair ", e, " query ", q,
                        " outside [0, ", rows, ")");
    for (int64_t j = 0; j < k; ++j)
      if (ip[q * k + j] == c) {
        op[e] = sp[q * k + j];
        break;
      }
  }
  return out;
}

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

ClusterScores cluster_scores(const torch::Tensor& pred, const torch::Tensor& groups,
                             const torch::Tensor& rows) {
  check_long(pred, 1, "cluster_scores: pred");
  check_long(groups, 1, "cluster_scores: groups");
  LOOKALIKE_CHECK_ARG(pred.size(0) == groups.size(0), "cluster_scores: ", pred.size(0),
                      " predicted labels for ", groups.size(0), " items");
  const int64_t n = pred.size(0);
  LOOKALIKE_CHECK_ARG(n > 0, "cluster_scores: no items");
  auto pc = pred.contiguous(), gc = groups.contiguous();
  const int64_t *p = pc.data_ptr<int64_t>(), *g = gc.data_ptr<int64_t>();
  std::unordered_map<int64_t, int64_t> psize, gsize;
  std::unordered_map<int64_t, std::unordered_map<int64_t, int64_t>> both;
  for (int64_t i = 0; i < n; ++i) ++psize[p[i]], ++gsize[g[i]], ++both[p[i]][g[i]];
  std::vector<int64_t> eval;
  if (rows.defined()) {
    check_long(rows, 1, "cluster_scores: rows");
    auto rc = rows.contiguous();
    eval.assign(rc.data_ptr<int64_t>(), rc.data_ptr<int64_t>() + rc.numel());
    for (int64_t r : eval)
      LOOKALIKE_CHECK_ARG(r >= 0 && r < n, "cluster_scores: row ", r, " outside [0, ", n, ")");
  } else {
    eval.resize(static_cast<size_t>(n));
    std::iota(eval.begin(), eval.end(), int64_t{0});
  }
  LOOKALIKE_CHECK_ARG(!eval.empty(), "cluster_scores: no rows to score");
  double f1 = 0, pp = 0, tp = 0, inter = 0;
  for (int64_t i : eval) {
    const double a = double(psize[p[i]]), b = double(gsize[g[i]]), c = double(both[p[i]][g[i]]);
    f1 += 2 * c / (a + b);
    pp += a - 1, tp += b - 1, inter += c - 1;
  }
  ClusterScores s;
  s.mean_f1 = f1 / double(eval.size());
  s.pair_precision = pp > 0 ? inter / pp : 1.0;
  s.pair_recall = tp > 0 ? inter / tp : 1.0;
  s.pair_f1 = s.pair_precision + s.pair_recall > 0
                  ? 2 * s.pair_precision * s.pair_recall / (s.pair_precision + s.pair_recall)
                  : 0.0;
  return s;
}

}  // namespace lookalike::dedup
