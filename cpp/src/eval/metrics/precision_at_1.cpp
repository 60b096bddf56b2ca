// "precision_at_1": share of queries whose nearest reference has the query's label.
#include "lookalike/eval/metric.h"
#include "lookalike/eval/retrieval.h"

namespace lookalike::eval {
namespace {
class PrecisionAt1 final : public RetrievalMetric {
 public:
  std::vector<std::string> keys() const override { return {"precision_at_1"}; }
  int64_t depth(int64_t) const override { return 1; }
  void add(const RankedQuery& q, double* sums) const override {
    if (q.length > 0 && q.relevant[0]) sums[0] += 1;
  }
};
}  // namespace

LOOKALIKE_REGISTER(metric_registry(), "precision_at_1",
                   [](const RetrievalOptions&, int64_t) -> std::unique_ptr<RetrievalMetric> {
                     return std::make_unique<PrecisionAt1>();
                   })
}  // namespace lookalike::eval
