#pragma once
// Argument checks shared by the dedup area's implementation files.
#include <torch/types.h>

#include "lookalike/error.h"

namespace lookalike::dedup::detail {

inline void check_long(const torch::Tensor& t, int64_t dim, const char* what) {
  LOOKALIKE_CHECK_ARG(t.defined() && t.dim() == dim && t.scalar_type() == torch::kLong, what,
                      " must be int64 with ", dim, " dimension(s), got ",
                      t.defined() ? t.sizes() : at::IntArrayRef{}, " ",
                      t.defined() ? t.scalar_type() : torch::kLong);
}

}  // namespace lookalike::dedup::detail
