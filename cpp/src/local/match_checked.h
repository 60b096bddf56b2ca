#pragma once
// match_features without its checks, for callers that checked the options and every feature set
// once (verify_pairs checks each image once, not once per pair).
#include "lookalike/local/match.h"

namespace lookalike::local::detail {

/// match_features, the options validated and a, b passed check_features by the caller.
Matches match_checked(const LocalFeatures& a, const LocalFeatures& b, const MatchOptions& options);

}  // namespace lookalike::local::detail
