#include "lookalike/localise/wsol.h"

#include <cmath>

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/localise/boxes.h"

namespace lookalike::localise {

std::vector<double> threshold_grid(double step) {
  LOOKALIKE_CHECK_ARG(step > 0.0 && step <= 1.0, "threshold_grid: step must be in (0, 1], got ",
                      step);
  std::vector<double> out;
  for (int64_t i = 0; static_cast<double>(i) * step < 1.0 - 1e-9; ++i)
    out.push_back(static_cast<double>(i) * step);
  return out;
}

BoxAccuracy box_accuracy(const torch::Tensor& boxes, const torch::Tensor& truth,
                         const torch::Tensor& groups, int64_t num_groups, double iou_threshold) {
  LOOKALIKE_CHECK_ARG(boxes.defined() && boxes.dim() == 3 && boxes.size(2) == 4 &&
                          boxes.scalar_type() == torch::kLong,
                      "box_accuracy: boxes must be int64 [T, M, 4], got ",
                      boxes.defined() ? boxes.sizes() : c10::IntArrayRef{});
  const int64_t nt = boxes.size(0), m = boxes.size(1);
  LOOKALIKE_CHECK_ARG(nt > 0 && m > 0, "box_accuracy: no threshold or no row (boxes ",
                      boxes.sizes(), ")");
  LOOKALIKE_CHECK_ARG(truth.defined() && truth.dim() == 2 && truth.size(0) == m,
                      "box_accuracy: truth must be int64 [", m, ", 4], got ",
                      truth.defined() ? truth.sizes() : c10::IntArrayRef{});
  LOOKALIKE_CHECK_ARG(groups.defined() && groups.dim() == 1 && groups.size(0) == m &&
                          groups.scalar_type() == torch::kLong,
                      "box_accuracy: groups must be int64 [", m, "]");
  LOOKALIKE_CHECK_ARG(num_groups > 0 && groups.min().item<int64_t>() >= 0 &&
                          groups.max().item<int64_t>() < num_groups,
                      "box_accuracy: groups must lie in [0, ", num_groups, ")");
  LOOKALIKE_CHECK_ARG(iou_threshold > 0.0 && iou_threshold <= 1.0,
                      "box_accuracy: iou_threshold must be in (0, 1], got ", iou_threshold);
  BoxAccuracy out;
  std::vector<torch::Tensor> ious;
  for (int64_t t = 0; t < nt; ++t) ious.push_back(box_iou(boxes[t], truth));
  out.iou = torch::stack(ious);  // [T, M]
  const auto correct = (out.iou >= iou_threshold).to(torch::kDouble);
  out.accuracy = correct.mean(1).to(torch::kFloat);
  out.best = out.accuracy.argmax().item<int64_t>();
  // argmax of a float tensor may return any of equal maxima: take the first
  out.best = (out.accuracy == out.accuracy[out.best]).nonzero()[0][0].item<int64_t>();
  out.max_box_acc = out.accuracy[out.best].item<double>();
  out.group_rows = torch::zeros({num_groups}, torch::kLong)
                       .index_add_(0, groups, torch::ones({m}, torch::kLong));
  auto sums = torch::zeros({num_groups, nt}, torch::kDouble).index_add_(0, groups, correct.t());
  auto rows = out.group_rows.to(torch::kDouble).unsqueeze(1);
  out.group_accuracy =
      torch::where(rows > 0, sums / rows.clamp_min(1), torch::full_like(sums, std::nan("")))
          .to(torch::kFloat);
  out.group_max = std::get<0>(out.group_accuracy.max(1));
  return out;
}

}  // namespace lookalike::localise
