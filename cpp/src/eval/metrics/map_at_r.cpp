// "map_at_r": mean over queries of (1/R) * sum_{i<=R} precision@i * rel(i).
#include <algorithm>

#include "lookalike/eval/metric.h"
#include "lookalike/eval/retrieval.h"

namespace lookalike::eval {
namespace {
class MapAtR final : public RetrievalMetric {
 public:
  std::vector<std::string> keys() const override { return {"map_at_r"}; }
  int64_t depth(int64_t r) const override { return r; }
  void add(const RankedQuery& q, double* sums) const override {
    int64_t hits = 0;
    double ap = 0;
    for (int64_t i = 0; i < std::min(q.r, q.length); ++i) {
      if (!q.relevant[i]) continue;
      ++hits;
      ap += double(hits) / double(i + 1);  // precision at this relevant rank
    }
    sums[0] += ap / double(q.r);
  }
};
}  // namespace

LOOKALIKE_REGISTER(metric_registry(), "map_at_r",
                   [](const RetrievalOptions&, int64_t) -> std::unique_ptr<RetrievalMetric> {
                     return std::make_unique<MapAtR>();
                   })
}  // namespace lookalike::eval
