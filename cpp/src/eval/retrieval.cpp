#include "lookalike/eval/retrieval.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_map>

#include "lookalike/error.h"
#include "lookalike/eval/metric.h"
#include "lookalike/index/drop_self.h"

namespace lookalike::eval {

namespace {
// Checks the sets and labels; returns the candidates each query has (the reference set, less
// the query itself when searching the set itself).
int64_t checked_candidates(const torch::Tensor& query, const torch::Tensor& query_labels,
                           const torch::Tensor& reference, const torch::Tensor& reference_labels,
                           bool same_source) {
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
  const int64_t available = reference.size(0) - (same_source ? 1 : 0);
  LOOKALIKE_CHECK_ARG(available >= 1, "retrieval_metrics: the reference set has no candidates",
                      same_source ? " besides the query itself" : "");
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

// The chosen metrics (InvalidArgument for an unknown name, a repeated one or none).
std::vector<std::unique_ptr<RetrievalMetric>> chosen_metrics(const RetrievalOptions& options,
                                                             int64_t available) {
  LOOKALIKE_CHECK_ARG(!options.metrics.empty(),
                      "retrieval_metrics: metrics must name at least one of ",
                      util::join_names(metrics()));
  std::vector<std::unique_ptr<RetrievalMetric>> out;
  std::set<std::string> seen;
  for (const auto& name : options.metrics) {
    LOOKALIKE_CHECK_ARG(seen.insert(name).second, "retrieval_metrics: metric '", name,
                        "' is named twice");
    out.push_back(metric_registry().get(name)(options, available));
  }
  return out;
}

// uint8 [nq, k]: 1 where the candidate ids[i][c] shares query i's label.
torch::Tensor relevance(const torch::Tensor& ids, const int64_t* ref_labels,
                        const int64_t* query_labels) {
  auto rel = torch::zeros(ids.sizes(), torch::kUInt8);
  auto id = ids.accessor<int64_t, 2>();
  auto out = rel.accessor<uint8_t, 2>();
  for (int64_t i = 0; i < ids.size(0); ++i)
    for (int64_t c = 0; c < ids.size(1); ++c)
      out[i][c] = id[i][c] >= 0 && ref_labels[id[i][c]] == query_labels[i] ? 1 : 0;
  return rel;
}
// Each chosen metric's keys, in order, and its first slot among them.
std::vector<std::string> metric_keys(const std::vector<std::unique_ptr<RetrievalMetric>>& chosen,
                                     std::vector<size_t>& offset) {
  std::vector<std::string> keys;
  for (const auto& m : chosen) {
    offset.push_back(keys.size());
    for (auto& key : m->keys()) keys.push_back(std::move(key));
  }
  return keys;
}

// The means over the counted queries, and the counts.
std::map<std::string, double> means(const std::vector<std::string>& keys,
                                    const std::vector<double>& sums, int64_t counted, int64_t nq) {
  std::map<std::string, double> out;
  const double denom = counted > 0 ? double(counted) : std::numeric_limits<double>::quiet_NaN();
  for (size_t j = 0; j < keys.size(); ++j) out[keys[j]] = sums[j] / denom;
  out["num_queries"] = double(counted);
  out["num_excluded"] = double(nq - counted);
  return out;
}

}  // namespace

util::Registry<MetricFactory>& metric_registry() {
  static util::Registry<MetricFactory> table("retrieval metric");
  return table;
}

std::vector<std::string> metrics() { return metric_registry().names(); }

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
      checked_candidates(query, query_labels, reference, reference_labels, same_source);
  const auto chosen = chosen_metrics(options, available);
  std::vector<size_t> offset;  // each metric's first slot in sums
  const auto keys = metric_keys(chosen, offset);
  std::vector<double> sums(keys.size(), 0.0);

  const auto ref_labels_cpu = reference_labels.to(torch::kCPU).contiguous();
  const auto q_labels_cpu = query_labels.to(torch::kCPU).contiguous();
  const int64_t nq = query.size(0);
  const auto r_tensor = relevant_counts(ref_labels_cpu, q_labels_cpu, same_source);
  // Ranks read for a query with R relevant: the deepest any chosen metric needs.
  auto depth = [&](int64_t r) {
    int64_t d = 1;
    for (const auto& m : chosen) d = std::max(d, m->depth(r));
    return std::min(available, d);
  };

  index::KnnOptions ko;
  ko.metric = options.metric;
  ko.backend = options.backend;
  ko.check_finite = false;  // both sets were checked once above, not once per query tile
  int64_t counted = 0;
  // Query tiles sized so that tile x K stays under max_entries; K adapts to each tile's R.
  const int64_t tile = std::max<int64_t>(
      1, options.max_entries / std::max<int64_t>(depth(r_tensor.max().item<int64_t>()), 1));
  const int64_t* ql = q_labels_cpu.data_ptr<int64_t>();
  const int64_t* rr = r_tensor.data_ptr<int64_t>();
  for (int64_t s = 0; s < nq; s += tile) {
    const int64_t e = std::min(nq, s + tile);
    const int64_t k = depth(r_tensor.slice(0, s, e).max().item<int64_t>());
    // Searching the set itself: k + 1 neighbours less each row's own id (or, when a tie pushed
    // it out of the list, its last entry).
    auto knn = index::exact_knn(query.slice(0, s, e), reference, same_source ? k + 1 : k, ko);
    knn.scores = torch::Tensor();  // only the ids are needed from here on
    if (same_source) knn.indices = index::drop_self(knn.indices, {}, k, s).first;
    const auto rel = relevance(knn.indices, ref_labels_cpu.data_ptr<int64_t>(), ql + s);
    for (int64_t i = 0; i < e - s; ++i) {
      const int64_t r = rr[s + i];
      if (r <= 0) continue;  // no reference shares the label
      ++counted;
      const RankedQuery ranked{rel[i].data_ptr<uint8_t>(), rel.size(1), r};
      for (size_t m = 0; m < chosen.size(); ++m) chosen[m]->add(ranked, sums.data() + offset[m]);
    }
  }
  return means(keys, sums, counted, nq);
}

std::map<std::string, double> ranked_metrics(const torch::Tensor& ids,
                                             const torch::Tensor& query_labels,
                                             const torch::Tensor& reference_labels,
                                             const RetrievalOptions& options) {
  LOOKALIKE_CHECK_ARG(ids.defined() && ids.dim() == 2 && ids.scalar_type() == torch::kLong,
                      "ranked_metrics: ids must be int64 [nq, K]");
  for (const auto* t : {&query_labels, &reference_labels})
    LOOKALIKE_CHECK_ARG(t->defined() && t->dim() == 1 && t->scalar_type() == torch::kLong,
                        "ranked_metrics: labels must be 1-d int64 tensors");
  LOOKALIKE_CHECK_ARG(query_labels.size(0) == ids.size(0), "ranked_metrics: ", ids.size(0),
                      " rows of ids but ", query_labels.size(0), " query labels");
  const int64_t nref = reference_labels.size(0);
  LOOKALIKE_CHECK_ARG(nref >= 1, "ranked_metrics: the reference set is empty");
  const auto id = ids.to(torch::kCPU).contiguous();
  LOOKALIKE_CHECK_ARG(
      id.numel() == 0 || (id.min().item<int64_t>() >= -1 && id.max().item<int64_t>() < nref),
      "ranked_metrics: ids must be -1 or rows of the ", nref, " references");
  const auto chosen = chosen_metrics(options, nref);
  std::vector<size_t> offset;
  const auto keys = metric_keys(chosen, offset);
  std::vector<double> sums(keys.size(), 0.0);
  const auto ref = reference_labels.to(torch::kCPU).contiguous();
  const auto ql = query_labels.to(torch::kCPU).contiguous();
  const auto r = relevant_counts(ref, ql, false);
  const auto rel = relevance(id, ref.data_ptr<int64_t>(), ql.data_ptr<int64_t>());
  int64_t counted = 0;
  for (int64_t i = 0; i < id.size(0); ++i) {
    const int64_t ri = r[i].item<int64_t>();
    if (ri <= 0) continue;
    ++counted;
    const RankedQuery ranked{rel[i].data_ptr<uint8_t>(), rel.size(1), ri};
    for (size_t m = 0; m < chosen.size(); ++m) chosen[m]->add(ranked, sums.data() + offset[m]);
  }
  return means(keys, sums, counted, id.size(0));
}

}  // namespace lookalike::eval
