#include "lookalike/dedup/candidates.h"

#include <torch/torch.h>

#include <algorithm>
#include <set>
#include <vector>

#include "lookalike/index/drop_self.h"

#ifdef LOOKALIKE_HAVE_FAISS
#include <faiss/IndexBinaryFlat.h>
#endif

#include "checks.h"
#include "lookalike/error.h"

namespace lookalike::dedup {

using detail::check_long;

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
  return index::drop_self(ids, scores, n);
#else
  throw InvalidArgument("hamming_candidates: this build has no FAISS (binary index)");
#endif
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

torch::Tensor candidate_pairs(const torch::Tensor& rows, const std::vector<torch::Tensor>& lists,
                              int64_t n) {
  check_long(rows, 1, "candidate_pairs: rows");
  LOOKALIKE_CHECK_ARG(n >= 1, "candidate_pairs: n must be >= 1, got ", n);
  std::vector<std::pair<int64_t, int64_t>> pairs;
  auto rc = rows.contiguous();
  const int64_t* rp = rc.data_ptr<int64_t>();
  for (const auto& ids : lists) {
    check_long(ids, 2, "candidate_pairs: candidate ids");
    LOOKALIKE_CHECK_ARG(ids.size(1) >= n, "candidate_pairs: lists of ", ids.size(1),
                        " candidates, fewer than n = ", n);
    auto ic = ids.contiguous();
    const int64_t* ip = ic.data_ptr<int64_t>();
    const int64_t width = ic.size(1);
    for (int64_t i = 0; i < rc.numel(); ++i) {
      LOOKALIKE_CHECK_ARG(rp[i] >= 0 && rp[i] < ic.size(0), "candidate_pairs: row ", rp[i],
                          " outside [0, ", ic.size(0), ")");
      for (int64_t j = 0; j < n; ++j)
        if (ip[rp[i] * width + j] >= 0) pairs.emplace_back(rp[i], ip[rp[i] * width + j]);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  auto out = torch::empty({static_cast<int64_t>(pairs.size()), 2}, torch::kLong);
  int64_t* op = out.data_ptr<int64_t>();
  for (size_t e = 0; e < pairs.size(); ++e)
    op[2 * e] = pairs[e].first, op[2 * e + 1] = pairs[e].second;
  return out;
}

torch::Tensor pairs_in(const torch::Tensor& query_rows, const torch::Tensor& ids,
                       const torch::Tensor& pairs) {
  check_long(query_rows, 1, "pairs_in: query_rows");
  check_long(ids, 2, "pairs_in: ids");
  check_long(pairs, 2, "pairs_in: pairs");
  LOOKALIKE_CHECK_ARG(pairs.size(1) == 2, "pairs_in: pairs must be [m, 2], got ", pairs.sizes());
  std::set<std::pair<int64_t, int64_t>> set;
  auto pc = pairs.contiguous();
  const int64_t* pp = pc.data_ptr<int64_t>();
  for (int64_t e = 0; e < pc.size(0); ++e) set.emplace(pp[2 * e], pp[2 * e + 1]);
  auto qc = query_rows.contiguous();
  auto ic = ids.contiguous();
  const int64_t q = qc.numel(), n = ic.size(1);
  auto out = torch::zeros({q, n}, torch::kBool);
  bool* op = out.data_ptr<bool>();
  const int64_t *qp = qc.data_ptr<int64_t>(), *ip = ic.data_ptr<int64_t>();
  for (int64_t i = 0; i < q; ++i) {
    LOOKALIKE_CHECK_ARG(qp[i] >= 0 && qp[i] < ic.size(0), "pairs_in: query row ", qp[i],
                        " outside [0, ", ic.size(0), ")");
    for (int64_t j = 0; j < n; ++j) {
      const int64_t c = ip[qp[i] * n + j];
      op[i * n + j] = c >= 0 && set.count({qp[i], c}) > 0;
    }
  }
  return out;
}

}  // namespace lookalike::dedup
