#include "lookalike/index/drop_self.h"

#include <torch/torch.h>

#include "lookalike/error.h"

namespace lookalike::index {

std::pair<torch::Tensor, torch::Tensor> drop_self(const torch::Tensor& ids,
                                                  const torch::Tensor& scores, int64_t n,
                                                  int64_t first_row) {
  LOOKALIKE_CHECK_ARG(ids.defined() && ids.dim() == 2 && ids.scalar_type() == torch::kLong,
                      "drop_self: ids must be int64 [rows, k], got ",
                      ids.defined() ? ids.sizes() : torch::IntArrayRef{});
  const bool with_scores = scores.defined();
  LOOKALIKE_CHECK_ARG(
      !with_scores || (scores.sizes() == ids.sizes() && scores.scalar_type() == torch::kFloat),
      "drop_self: scores must be float32 shaped like ids ", ids.sizes());
  LOOKALIKE_CHECK_ARG(n >= 1, "drop_self: n must be >= 1, got ", n);
  const int64_t rows = ids.size(0), k = ids.size(1);
  auto oi = torch::full({rows, n}, -1, torch::kLong);
  auto os = with_scores ? torch::zeros({rows, n}, torch::kFloat) : torch::Tensor();
  auto ic = ids.cpu().contiguous();
  auto sc = with_scores ? scores.cpu().contiguous() : torch::Tensor();
  const int64_t* ip = ic.data_ptr<int64_t>();
  const float* sp = with_scores ? sc.data_ptr<float>() : nullptr;
  int64_t* oip = oi.data_ptr<int64_t>();
  float* osp = with_scores ? os.data_ptr<float>() : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t w = 0;
    for (int64_t j = 0; j < k && w < n; ++j) {
      const int64_t c = ip[r * k + j];
      if (c == first_row + r || c < 0) continue;
      oip[r * n + w] = c;
      if (with_scores) osp[r * n + w] = sp[r * k + j];
      ++w;
    }
  }
  return {oi, os};
}

}  // namespace lookalike::index
