// "r_precision": mean over queries of (same-label references in the top R) / R.
#include <algorithm>

#include "lookalike/eval/metric.h"
#include "lookalike/eval/retrieval.h"

namespace lookalike::eval {
namespace {
class RPrecision final : public RetrievalMetric {
 public:
  std::vector<std::string> keys() const override { return {"r_precision"}; }
  int64_t depth(int64_t r) const override { return r; }
  void add(const RankedQuery& q, double* sums) const override {
    int64_t hits = 0;
    for (int64_t i = 0; i < std::min(q.r, q.length); ++i) hits += q.relevant[i] ? 1 : 0;
    sums[0] += double(hits) / double(q.r);
  }
};
}  // namespace

LOOKALIKE_REGISTER(metric_registry(), "r_precision",
                   [](const RetrievalOptions&, int64_t) -> std::unique_ptr<RetrievalMetric> {
                     return std::make_unique<RPrecision>();
                   })
}  // namespace lookalike::eval
