#pragma once
// Retrieval metrics by name: one file each in cpp/src/eval/metrics/, registering itself
// (util/registry.h); eval::retrieval_metrics runs the kNN once and feeds every chosen metric
// each query's ranked relevance.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lookalike/util/registry.h"

namespace lookalike::eval {

struct RetrievalOptions;

/// One query's ranked list: relevant[i] (i < length) is 1 when the i-th nearest reference
/// shares the query's label; r (> 0) is the number of references sharing it (the query itself
/// excluded when the set is searched against itself). length >= depth(r) of every metric, or
/// every candidate when fewer exist.
struct RankedQuery {
  const uint8_t* relevant;
  int64_t length;
  int64_t r;
};

class RetrievalMetric {
 public:
  virtual ~RetrievalMetric() = default;
  /// The keys it reports ("precision_at_1"; "recall_at_1", "recall_at_10", ...).
  virtual std::vector<std::string> keys() const = 0;
  /// Ranks it reads for a query with r relevant references.
  virtual int64_t depth(int64_t r) const = 0;
  /// Adds the query's value of each key to sums[0 .. keys().size()); the reported value is the
  /// mean over the counted queries.
  virtual void add(const RankedQuery& query, double* sums) const = 0;
};

/// A metric's factory: checks the options it reads (InvalidArgument naming them); `available`
/// is the number of candidates each query has.
using MetricFactory = std::unique_ptr<RetrievalMetric> (*)(const RetrievalOptions& options,
                                                           int64_t available);
util::Registry<MetricFactory>& metric_registry();

/// The registered metric names, sorted.
std::vector<std::string> metrics();

}  // namespace lookalike::eval
