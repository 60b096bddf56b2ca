// The fused exact kNN engine: GEMM tiles + streaming top-k, never an nq x nb matrix.
//
// Each OpenMP thread takes a tile of queries and walks the reference set in tiles: one
// single-threaded GEMM (torch::mm_out -> the linked BLAS) fills a thread-local score buffer,
// then every row is scanned against its current k-th best score; chunks of 16 whose maximum
// cannot enter the list are skipped, so the heap is touched ~k log(nb/k) times per query.
#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "fused_knn_impl.h"
#include "lookalike/error.h"
#include "lookalike/index/knn.h"

namespace lookalike::index {

namespace {

// A min-heap of the k best (largest) scores of one query; ties keep the lower index.
struct TopK {
  float* score;
  int64_t* id;
  int64_t k;
  int64_t size = 0;

  static bool worse(float sa, int64_t ia, float sb, int64_t ib) {
    return sa < sb || (sa == sb && ia > ib);  // a ranks below b
  }
  float threshold() const { return size < k ? -std::numeric_limits<float>::infinity() : score[0]; }
  void push(float s, int64_t i) {
    if (size < k) {
      int64_t c = size++;
      while (c > 0) {  // sift up
        const int64_t p = (c - 1) / 2;
        if (!worse(s, i, score[p], id[p])) break;
        score[c] = score[p];
        id[c] = id[p];
        c = p;
      }
      score[c] = s;
      id[c] = i;
      return;
    }
    if (!worse(score[0], id[0], s, i)) return;  // not better than the current k-th
    int64_t c = 0;
    while (true) {  // sift down from the root
      const int64_t l = 2 * c + 1;
      if (l >= k) break;
      int64_t m = l;
      if (l + 1 < k && worse(score[l + 1], id[l + 1], score[l], id[l])) m = l + 1;
      if (!worse(score[m], id[m], s, i)) break;
      score[c] = score[m];
      id[c] = id[m];
      c = m;
    }
    score[c] = s;
    id[c] = i;
  }
  // Best first into out_s/out_i.
  void sorted(float* out_s, int64_t* out_i) const {
    std::vector<std::pair<float, int64_t>> v(static_cast<size_t>(size));
    for (int64_t j = 0; j < size; ++j) v[static_cast<size_t>(j)] = {score[j], id[j]};
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    for (int64_t j = 0; j < size; ++j) {
      out_s[j] = v[static_cast<size_t>(j)].first;
      out_i[j] = v[static_cast<size_t>(j)].second;
    }
  }
};

// Scans scores row[0..m) (reference ids base..base+m) into the heap.
inline void scan_row(const float* row, int64_t m, int64_t base, TopK& heap) {
  float thr = heap.threshold();
  int64_t j = 0;
  constexpr int64_t kChunk = 16;
  for (; j + kChunk <= m; j += kChunk) {
    float mx = row[j];
    for (int64_t t = 1; t < kChunk; ++t) mx = std::max(mx, row[j + t]);
    if (mx < thr) continue;
    for (int64_t t = 0; t < kChunk; ++t) {
      if (row[j + t] >= thr) {
        heap.push(row[j + t], base + j + t);
        thr = heap.threshold();
      }
    }
  }
  for (; j < m; ++j) {
    if (row[j] >= thr) {
      heap.push(row[j], base + j);
      thr = heap.threshold();
    }
  }
}

}  // namespace

KnnResult fused_knn(const torch::Tensor& query, const torch::Tensor& reference, int64_t k,
                    const std::string& metric, bool exclude_self, int64_t block_queries,
                    int64_t block_refs) {
  return detail::fused_knn_impl(query, reference, k, metric, exclude_self, block_queries,
                                block_refs, /*check_finite=*/true);
}

KnnResult detail::fused_knn_impl(const torch::Tensor& query_in, const torch::Tensor& reference_in,
                                 int64_t k, const std::string& metric, bool exclude_self,
                                 int64_t block_queries, int64_t block_refs, bool check_finite) {
  check_vectors(query_in, "fused_knn: query", check_finite);
  check_vectors(reference_in, "fused_knn: reference", check_finite);
  LOOKALIKE_CHECK_ARG(
      query_in.device().is_cpu() && reference_in.device().is_cpu(),
      "fused_knn: the fused engine takes CPU tensors (use backend 'torch' on CUDA)");
  LOOKALIKE_CHECK_ARG(query_in.size(1) == reference_in.size(1), "fused_knn: query has dimension ",
                      query_in.size(1), " but reference has ", reference_in.size(1));
  LOOKALIKE_CHECK_ARG(metric == "ip" || metric == "l2",
                      "fused_knn: metric must be 'ip' or 'l2', got '", metric, "'");
  LOOKALIKE_CHECK_ARG(block_queries >= 0 && block_refs > 0, "fused_knn: blocks must be positive");
  const int64_t nq = query_in.size(0), nb = reference_in.size(0), d = query_in.size(1);
  if (exclude_self)
    LOOKALIKE_CHECK_ARG(nq == nb,
                        "fused_knn: exclude_self needs the query set to be the reference set");
  const int64_t available = nb - (exclude_self ? 1 : 0);
  LOOKALIKE_CHECK_ARG(k >= 1 && k <= available, "fused_knn: k = ", k, " must be in [1, ", available,
                      "] (the reference set", exclude_self ? " without the query itself" : "", ")");
  torch::NoGradGuard no_grad;
  const auto query = query_in.contiguous();
  const auto reference = reference_in.contiguous();
  const bool l2 = metric == "l2";
  torch::Tensor ref_norms = l2 ? reference.pow(2).sum(1).contiguous() : torch::Tensor();
  torch::Tensor q_norms = l2 ? query.pow(2).sum(1).contiguous() : torch::Tensor();
  const float* rn = l2 ? ref_norms.data_ptr<float>() : nullptr;

  KnnResult out{torch::empty({nq, k}, torch::kFloat), torch::empty({nq, k}, torch::kLong)};
  float* out_s = out.scores.data_ptr<float>();
  int64_t* out_i = out.indices.data_ptr<int64_t>();
  const int threads = std::max(1, omp_get_max_threads());
  if (block_queries == 0)  // large tiles amortise the GEMM; enough of them to feed every thread
    block_queries = std::clamp<int64_t>((nq + threads - 1) / threads, 16, 512);
#ifdef LOOKALIKE_DEGRADE_KNN_TILE  // a gate test build: one query per tile (see CMakeLists.txt)
  block_queries = 1;
#endif
  const int64_t q_blocks = (nq + block_queries - 1) / block_queries;

#pragma omp parallel num_threads(threads)
  {
    // Thread-local: one score tile and the heaps of one query tile.
    auto tile = torch::empty({block_queries, block_refs}, torch::kFloat);
    std::vector<float> heap_s(static_cast<size_t>(block_queries * k));
    std::vector<int64_t> heap_i(static_cast<size_t>(block_queries * k));
    std::vector<TopK> heaps;
#pragma omp for schedule(dynamic, 1)
    for (int64_t qb = 0; qb < q_blocks; ++qb) {
      const int64_t q0 = qb * block_queries, q1 = std::min(nq, q0 + block_queries), nqt = q1 - q0;
      heaps.clear();
      for (int64_t r = 0; r < nqt; ++r)
        heaps.push_back({heap_s.data() + r * k, heap_i.data() + r * k, k});
      const auto qt = query.slice(0, q0, q1);
      for (int64_t r0 = 0; r0 < nb; r0 += block_refs) {
        const int64_t r1 = std::min(nb, r0 + block_refs), m = r1 - r0;
        // Inside the parallel region torch and OpenBLAS run this GEMM on this thread alone.
        auto dst = torch::from_blob(tile.data_ptr<float>(), {nqt, m}, torch::kFloat);
        torch::mm_out(dst, qt, reference.slice(0, r0, r1).t());
        float* base = dst.data_ptr<float>();
        for (int64_t r = 0; r < nqt; ++r) {
          float* row = base + r * m;
          if (l2) {  // rank by 2 q.r - |r|^2 (|q|^2 is constant per row)
            for (int64_t j = 0; j < m; ++j) row[j] = 2.0f * row[j] - rn[r0 + j];
          }
          const int64_t self = q0 + r;
          if (exclude_self && self >= r0 && self < r1)
            row[self - r0] = -std::numeric_limits<float>::infinity();
          scan_row(row, m, r0, heaps[static_cast<size_t>(r)]);
        }
      }
      for (int64_t r = 0; r < nqt; ++r) {
        float* s = out_s + (q0 + r) * k;
        int64_t* i = out_i + (q0 + r) * k;
        heaps[static_cast<size_t>(r)].sorted(s, i);
        if (l2) {
          const float qn = q_norms.data_ptr<float>()[q0 + r];
          for (int64_t j = 0; j < k; ++j) s[j] = std::max(0.0f, qn - s[j]);
        }
      }
    }
  }
  return out;
}

}  // namespace lookalike::index
