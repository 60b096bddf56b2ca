#include "lookalike/index/knn.h"

#include <torch/torch.h>

#include <limits>
#include <tuple>

#include "fused_knn_impl.h"
#include "lookalike/error.h"
#include "lookalike/index/drop_self.h"

#ifdef LOOKALIKE_HAVE_FAISS
#include <faiss/IndexFlat.h>
#endif

namespace lookalike::index {

bool have_faiss() {
#ifdef LOOKALIKE_HAVE_FAISS
  return true;
#else
  return false;
#endif
}

void check_vectors(const torch::Tensor& x, const char* what, bool finite) {
  LOOKALIKE_CHECK_ARG(x.defined() && x.dim() == 2, what,
                      " must be a 2-d float32 tensor [n, d], got ",
                      x.defined() ? x.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(x.scalar_type() == torch::kFloat, what, " must be float32, got ",
                      x.scalar_type());
  LOOKALIKE_CHECK_ARG(x.size(0) > 0 && x.size(1) > 0, what, " is empty (", x.sizes(), ")");
  if (finite) {
    bool ok;
    if (x.device().is_cpu() && x.is_contiguous() && x.numel() < (1 << 20)) {
      // Small inputs (single queries): a plain loop, no tensor ops; per-call cost matters.
      const float* p = x.data_ptr<float>();
      const int64_t n = x.numel();
      float acc = 0.f;  // NaN/Inf propagate through x * 0
      for (int64_t i = 0; i < n; ++i) acc += p[i] * 0.f;
      ok = acc == 0.f;
    } else {  // in row chunks: a whole-matrix bool mask would be n x d bytes (128 MB at 1M x 128)
      ok = true;
      const int64_t rows = std::max<int64_t>(1, (1 << 22) / x.size(1));
      for (int64_t s = 0; s < x.size(0) && ok; s += rows)
        ok = torch::isfinite(x.slice(0, s, std::min(x.size(0), s + rows))).all().item<bool>();
    }
    LOOKALIKE_CHECK_ARG(ok, what, " contains NaN or Inf");
  }
}

namespace {

#ifdef LOOKALIKE_HAVE_FAISS
KnnResult faiss_knn(const torch::Tensor& q, const torch::Tensor& ref, int64_t k,
                    const KnnOptions& o) {
  const int64_t d = q.size(1), nq = q.size(0);
  std::unique_ptr<faiss::IndexFlat> index;
  if (o.metric == "ip") {
    index = std::make_unique<faiss::IndexFlatIP>(d);
  } else {
    index = std::make_unique<faiss::IndexFlatL2>(d);
  }
  auto r = ref.contiguous();
  index->add(r.size(0), r.data_ptr<float>());
  const int64_t kk = o.exclude_self ? k + 1 : k;
  KnnResult out{torch::empty({nq, k}, torch::kFloat), torch::empty({nq, k}, torch::kLong)};
  auto qc = q.contiguous();
  for (int64_t s = 0; s < nq; s += o.query_tile) {
    const int64_t e = std::min(nq, s + o.query_tile);
    KnnResult tile{torch::empty({e - s, kk}, torch::kFloat),
                   torch::empty({e - s, kk}, torch::kLong)};
    index->search(e - s, qc.data_ptr<float>() + s * d, kk, tile.scores.data_ptr<float>(),
                  tile.indices.data_ptr<int64_t>());
    if (o.exclude_self)
      std::tie(tile.indices, tile.scores) = drop_self(tile.indices, tile.scores, k, s);
    out.scores.slice(0, s, e).copy_(tile.scores);
    out.indices.slice(0, s, e).copy_(tile.indices);
  }
  return out;
}
#endif

// Top k (largest, sorted) of each row of a score tile; with chunk > 0 in two stages: the top k
// of every `chunk` columns, then the top k of those candidates.
std::pair<torch::Tensor, torch::Tensor> tile_topk(const torch::Tensor& sim, int64_t k,
                                                  int64_t chunk) {
  const int64_t rows = sim.size(0), w = sim.size(1);
  const int64_t kt = std::min(k, w);
  if (chunk <= 0 || chunk < 4 * kt || w < 2 * chunk) {
    auto top = sim.topk(kt, 1, /*largest=*/true, /*sorted=*/true);
    return {std::get<0>(top), std::get<1>(top)};
  }
  const int64_t nc = w / chunk, body = nc * chunk;
  auto stage = sim.narrow(1, 0, body).view({rows, nc, chunk}).topk(kt, 2, true, false);
  auto offsets = torch::arange(0, body, chunk, sim.options().dtype(torch::kLong)).view({1, nc, 1});
  auto cand_s = std::get<0>(stage).reshape({rows, nc * kt});
  auto cand_i = std::get<1>(stage).add(offsets).reshape({rows, nc * kt});
  if (body < w) {  // the columns after the last whole chunk
    auto rest = sim.narrow(1, body, w - body).topk(std::min(kt, w - body), 1, true, false);
    cand_s = torch::cat({cand_s, std::get<0>(rest)}, 1);
    cand_i = torch::cat({cand_i, std::get<1>(rest).add(body)}, 1);
  }
  auto top = cand_s.topk(kt, 1, true, true);
  return {std::get<0>(top), cand_i.gather(1, std::get<1>(top))};
}

// Tiled GEMM + top-k on any device; never holds more than query_tile x (reference_tile + k).
KnnResult torch_knn(const torch::Tensor& q, const torch::Tensor& ref, int64_t k,
                    const KnnOptions& o) {
  torch::NoGradGuard guard;
  const int64_t nq = q.size(0), nb = ref.size(0);
  const bool l2 = o.metric == "l2";
  auto ref_norms = l2 ? ref.pow(2).sum(1) : torch::Tensor();
  KnnResult out{torch::empty({nq, k}, torch::kFloat), torch::empty({nq, k}, torch::kLong)};
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t s = 0; s < nq; s += o.query_tile) {
    const int64_t e = std::min(nq, s + o.query_tile);
    auto qt = q.slice(0, s, e);
    torch::Tensor best_s, best_i;
    for (int64_t rs = 0; rs < nb; rs += o.reference_tile) {
      const int64_t re = std::min(nb, rs + o.reference_tile);
      // Larger is nearer: ip, or 2 q.r - |r|^2 for L2 (|q|^2 is constant per row).
      auto sim = torch::mm(qt, ref.slice(0, rs, re).t());
      if (l2) sim.mul_(2).sub_(ref_norms.slice(0, rs, re).unsqueeze(0));
      if (o.exclude_self && rs < e && s < re) {
        // Queries s..e-1 are references s..e-1: mask the diagonal inside this tile.
        const int64_t lo = std::max(s, rs), hi = std::min(e, re);
        auto rows = torch::arange(lo - s, hi - s,
                                  torch::TensorOptions().dtype(torch::kLong).device(q.device()));
        auto cols = torch::arange(lo - rs, hi - rs,
                                  torch::TensorOptions().dtype(torch::kLong).device(q.device()));
        sim.index_put_({rows, cols}, neg_inf);
      }
      auto [s_val, s_idx] = tile_topk(sim, k, o.topk_chunk);
      s_idx.add_(rs);
      if (!best_s.defined()) {
        best_s = s_val;
        best_i = s_idx;
      } else {
        auto cat_s = torch::cat({best_s, s_val}, 1);
        auto cat_i = torch::cat({best_i, s_idx}, 1);
        auto merged = cat_s.topk(std::min<int64_t>(k, cat_s.size(1)), 1, true, true);
        best_s = std::get<0>(merged);
        best_i = cat_i.gather(1, std::get<1>(merged));
      }
    }
    if (l2) best_s = qt.pow(2).sum(1, true) - best_s;  // back to squared distances
    out.scores.slice(0, s, e).copy_(best_s.to(torch::kCPU));
    out.indices.slice(0, s, e).copy_(best_i.to(torch::kCPU));
  }
  return out;
}

}  // namespace

KnnResult exact_knn(const torch::Tensor& query, const torch::Tensor& reference, int64_t k,
                    const KnnOptions& o) {
  check_vectors(query, "exact_knn: query", o.check_finite);
  check_vectors(reference, "exact_knn: reference", o.check_finite);
  LOOKALIKE_CHECK_ARG(query.size(1) == reference.size(1), "exact_knn: query has dimension ",
                      query.size(1), " but reference has ", reference.size(1));
  LOOKALIKE_CHECK_ARG(query.device() == reference.device(), "exact_knn: query is on ",
                      query.device(), " but reference on ", reference.device());
  LOOKALIKE_CHECK_ARG(o.metric == "ip" || o.metric == "l2",
                      "exact_knn: metric must be 'ip' or 'l2', got '", o.metric, "'");
  LOOKALIKE_CHECK_ARG(o.query_tile > 0 && o.reference_tile > 0,
                      "exact_knn: tiles must be positive");
  if (o.exclude_self) {
    LOOKALIKE_CHECK_ARG(query.size(0) == reference.size(0),
                        "exact_knn: exclude_self needs the query set to be the reference set (",
                        query.size(0), " queries, ", reference.size(0), " references)");
  }
  const int64_t available = reference.size(0) - (o.exclude_self ? 1 : 0);
  LOOKALIKE_CHECK_ARG(k >= 1, "exact_knn: k must be >= 1, got ", k);
  LOOKALIKE_CHECK_ARG(k <= available, "exact_knn: k = ", k, " is larger than the reference set (",
                      available, " candidates", o.exclude_self ? " after excluding self" : "", ")");
  std::string backend = o.backend;
  if (backend == "auto") backend = query.device().is_cpu() ? "fused" : "torch";
  if (backend == "fused") {  // inputs checked above: no second O(n d) scan
    return detail::fused_knn_impl(query, reference, k, o.metric, o.exclude_self, 0, kFusedBlockRefs,
                                  /*check_finite=*/false);
  }
  if (backend == "faiss") {
#ifdef LOOKALIKE_HAVE_FAISS
    LOOKALIKE_CHECK_ARG(query.device().is_cpu(), "exact_knn: the faiss backend takes CPU tensors");
    return faiss_knn(query, reference, k, o);
#else
    throw InvalidArgument("exact_knn: backend 'faiss' asked for, but this build has no FAISS");
#endif
  }
  LOOKALIKE_CHECK_ARG(backend == "torch",
                      "exact_knn: backend must be 'auto', 'faiss' or 'torch', got '", o.backend,
                      "'");
  return torch_knn(query, reference, k, o);
}

}  // namespace lookalike::index
