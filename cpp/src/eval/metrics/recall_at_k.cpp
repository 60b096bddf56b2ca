// "recall_at_k" (pytorch-metric-learning's definition): for each k of RetrievalOptions::ks, the
// share of queries with at least one same-label reference in the top k.
#include <algorithm>

#include "lookalike/error.h"
#include "lookalike/eval/metric.h"
#include "lookalike/eval/retrieval.h"

namespace lookalike::eval {
namespace {
class RecallAtK final : public RetrievalMetric {
 public:
  explicit RecallAtK(std::vector<int64_t> ks) : ks_(std::move(ks)) {}
  std::vector<std::string> keys() const override {
    std::vector<std::string> out;
    for (int64_t k : ks_) out.push_back("recall_at_" + std::to_string(k));
    return out;
  }
  int64_t depth(int64_t) const override { return *std::max_element(ks_.begin(), ks_.end()); }
  void add(const RankedQuery& q, double* sums) const override {
    int64_t first = q.length;  // rank (0-based) of the first relevant reference
    for (int64_t i = 0; i < q.length; ++i)
      if (q.relevant[i]) {
        first = i;
        break;
      }
    for (size_t j = 0; j < ks_.size(); ++j)
      if (first < ks_[j]) sums[j] += 1;
  }

 private:
  std::vector<int64_t> ks_;
};
}  // namespace

LOOKALIKE_REGISTER(metric_registry(), "recall_at_k",
                   [](const RetrievalOptions& o,
                      int64_t available) -> std::unique_ptr<RetrievalMetric> {
                     LOOKALIKE_CHECK_ARG(!o.ks.empty(),
                                         "retrieval_metrics: ks must name at least one k");
                     for (int64_t k : o.ks) {
                       LOOKALIKE_CHECK_ARG(k >= 1, "retrieval_metrics: k must be >= 1, got ", k);
                       LOOKALIKE_CHECK_ARG(k <= available, "retrieval_metrics: k = ", k,
                                           " is larger than the reference set (", available,
                                           " candidates per query)");
                     }
                     return std::make_unique<RecallAtK>(o.ks);
                   })
}  // namespace lookalike::eval
