#pragma once
// Private to cpp/src/index: the fused engine with the NaN/Inf scan optional, for callers that
// validated their inputs already (exact_knn).
#include "lookalike/index/knn.h"

namespace lookalike::index::detail {

KnnResult fused_knn_impl(const torch::Tensor& query, const torch::Tensor& reference, int64_t k,
                         const std::string& metric, bool exclude_self, int64_t block_queries,
                         int64_t block_refs, bool check_finite);

}  // namespace lookalike::index::detail
