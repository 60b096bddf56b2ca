#include "lookalike/eval/retrieval.h"

#include <torch/torch.h>

#include <algorithm>
#include <unordered_map>

#include "lookalike/error.h"
#include "lookalike/index/drop_self.h"

namespace lookalike::eval {

namespace {
// Checks the sets, labels and ks; returns the candidates each query has (the reference set, less
// the query itself when searching the set itself).
int64_t checked_candidates(const torch::Tensor& query, const torch::Tensor& query_labels,
                           const torch::Tensor& reference, const torch::Tensor& reference_labels,
                           bool same_source, const RetrievalOptions& options) {
  index::check_vectors(query, "retrieval_metrics: query");
  if (!same_source) index::check_vectors(reference, "retrieval_metrics: reference");
  for (const auto* t : {&query_labels, &reference_labels}) {
    LOOKALIKE_CHECK_ARG(t->dim() == 1 && t->scalar_type() == torch::kLong,
                        "retrieval_metrics: labels must be 1-d int64 tensors");
  }
  LOOKALIKE_CHECK_ARG(query_labels.size(0) == query.size(0), "retrieval_metrics: ", query.size(0),
                      " query vectors but ", query_labels.size(0), " query labels");
  LOOKALIKE_CHECK_ARG(reference_labels.size(0) == reference.size(0),
                      "retrieval_metrics: ", reference.size(0), " reference vectors but ",
                      reference_labels.size(0), " reference labels");
  LOOKALIKE_CHECK_ARG(!options.ks.empty(), "retrieval_metrics: ks must name at least one k");
  const int64_t available = reference.size(0) - (same_source ? 1 : 0);
  for (int64_t k : options.ks) {
    LOOKALIKE_CHECK_ARG(k >= 1, "retrieval_metrics: k must be >= 1, got ", k);
    LOOKALIKE_CHECK_ARG(k <= available, "retrieval_metrics: k = ", k,
                        " is larger than the reference set (", available, " candidates",
                        same_source ? " besides the query itself" : "", ")");
  }
  return available;
}

// R per query (int64 [nq]): references sharing its label (less itself when searching the set
// itself).
torch::Tensor relevant_counts(const torch::Tensor& ref_labels_cpu,
                              const torch::Tensor& q_labels_cpu, bool same_source) {
  std::unordered_map<int64_t, int64_t> counts;
  const int64_t* p = ref_labels_cpu.data_ptr<int64_t>();
  for (int64_t i = 0; i < ref_labels_cpu.size(0); ++i) ++counts[p[i]];
  const int64_t nq = q_labels_cpu.size(0);
  auto r_tensor = torch::empty({nq}, torch::kLong);
  const int64_t* ql = q_labels_cpu.data_ptr<int64_t>();
  int64_t* r = r_tensor.data_ptr<int64_t>();
  for (int64_t i = 0; i < nq; ++i) {
    auto it = counts.find(ql[i]);
    r[i] = (it == counts.end() ? 0 : it->second) - (same_source ? 1 : 0);
  }
  return r_tensor;
}
}  // namespace

std::map<std::string, double> retrieval_metrics(const torch::Tensor& query,
                                                const torch::Tensor& query_labels,
                                                const torch::Tensor& reference_in,
                                                const torch::Tensor& reference_labels_in,
                                                const RetrievalOptions& options) {
  const bool same_source = !reference_in.defined();
  LOOKALIKE_CHECK_ARG(same_source == !reference_labels_in.defined(),
                      "retrieval_metrics: give both reference and reference_labels, or neither");
  const auto& reference = same_source ? query : reference_in;
  const auto& reference_labels = same_source ? query_labels : reference_labels_in;
  const int64_t available =
      checked_candidates(query, query_labels, reference, reference_labels, same_source, options);
  const int64_t max_k = *std::max_element(options.ks.begin(), options.ks.end());

  const auto ref_labels_cpu = reference_labels.to(torch::kCPU).contiguous();
  const auto q_labels_cpu = query_labels.to(torch::kCPU).contiguous();
  const int64_t nq = query.size(0);
  const auto r_tensor = relevant_counts(ref_labels_cpu, q_labels_cpu, same_source);

  index::KnnOptions ko;
  ko.metric = options.metric;
  ko.backend = options.backend;
  ko.check_finite = false;  // both sets were checked once above, not once per query tile
  double p1 = 0, rp = 0, map = 0;
  std::vector<double> recall(options.ks.size(), 0.0);
  int64_t counted = 0;
  // Query tiles sized so that tile x K stays under max_entries; K adapts to each tile's R.
  const int64_t max_r_all = r_tensor.max().item<int64_t>();
  const int64_t k_all = std::min(available, std::max(max_k, max_r_all));
  const int64_t tile = std::max<int64_t>(1, options.max_entries / std::max<int64_t>(k_all, 1));
  const int64_t* rl = ref_labels_cpu.data_ptr<int64_t>();
  const int64_t* ql = q_labels_cpu.data_ptr<int64_t>();
  const int64_t* rr = r_tensor.data_ptr<int64_t>();
  for (int64_t s = 0; s < nq; s += tile) {
    const int64_t e = std::min(nq, s + tile);
    const int64_t k =
        std::min(available, std::max(max_k, r_tensor.slice(0, s, e).max().item<int64_t>()));
    // Searching the set itself: k + 1 neighbours less each row's own id (or, when a tie pushed
    // it out of the list, its last entry).
    auto knn = index::exact_knn(query.slice(0, s, e), reference, same_source ? k + 1 : k, ko);
    knn.scores = torch::Tensor();  // only the ids are needed from here on
    if (same_source) knn.indices = index::drop_self(knn.indices, {}, k, s).first;
    auto ids = knn.indices.accessor<int64_t, 2>();
    for (int64_t i = 0; i < e - s; ++i) {
      const int64_t q = s + i, r = rr[q];
      if (r <= 0) continue;  // no reference shares the label
      ++counted;
      int64_t rank = 0, hits = 0, hits_in_r = 0;
      double ap = 0;
      std::vector<bool> found(options.ks.size(), false);
      for (int64_t c = 0; c < knn.indices.size(1) && rank < k; ++c) {
        const int64_t id = ids[i][c];
        ++rank;
        if (rl[id] != ql[q]) continue;
        ++hits;
        if (rank == 1) p1 += 1;
        for (size_t j = 0; j < options.ks.size(); ++j)
          if (rank <= options.ks[j]) found[j] = true;
        if (rank <= r) {
          ++hits_in_r;
          ap += double(hits) / double(rank);  // precision at this relevant rank
        }
      }
      for (size_t j = 0; j < options.ks.size(); ++j) recall[j] += found[j] ? 1 : 0;
      rp += double(hits_in_r) / double(r);
      map += ap / double(r);
    }
  }
  std::map<std::string, double> out;
  const double denom = counted > 0 ? double(counted) : std::numeric_limits<double>::quiet_NaN();
  out["precision_at_1"] = p1 / denom;
  for (size_t j = 0; j < options.ks.size(); ++j)
    out["recall_at_" + std::to_string(options.ks[j])] = recall[j] / denom;
  out["r_precision"] = rp / denom;
  out["map_at_r"] = map / denom;
  out["num_queries"] = double(counted);
  out["num_excluded"] = double(nq - counted);
  return out;
}

}  // namespace lookalike::eval
