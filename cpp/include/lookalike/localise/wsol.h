#pragma once
// Weakly-supervised localisation metrics (Choe et al., CVPR 2020, "Evaluating Weakly Supervised
// Object Localization Methods Right"): a box is correct when its IoU with the ground-truth box
// is at least iou_threshold (0.5); GT-known localisation accuracy is the share of correct boxes
// when the class is given, at one CAM threshold; MaxBoxAcc is its maximum over CAM thresholds.
#include <vector>

#include <torch/types.h>

namespace lookalike::localise {

/// Thresholds 0, step, 2 step, ... below 1 (Choe et al. use step 0.01). InvalidArgument unless
/// 0 < step <= 1.
std::vector<double> threshold_grid(double step);

/// Box accuracy of M rows at each of T CAM thresholds, overall and per group (e.g. per tag).
struct BoxAccuracy {
  torch::Tensor iou;             // float [T, M]: each row's IoU at each threshold
  torch::Tensor accuracy;        // float [T]: share of rows with IoU >= iou_threshold
  torch::Tensor group_rows;      // int64 [G]: rows per group
  torch::Tensor group_accuracy;  // float [G, T]: the same per group (NaN where a group has none)
  int64_t best = 0;              // the threshold index of the highest accuracy (first of ties)
  double max_box_acc = 0.0;      // accuracy[best]
  torch::Tensor group_max;       // float [G]: each group's maximum over thresholds (MaxBoxAcc)
};

/// `boxes` int64 [T, M, 4] (boxes_from_maps), `truth` int64 [M, 4], `groups` int64 [M] in
/// [0, num_groups). An empty predicted or true box has IoU 0 (never correct). InvalidArgument for
/// shapes that disagree, no row, or iou_threshold outside (0, 1].
BoxAccuracy box_accuracy(const torch::Tensor& boxes, const torch::Tensor& truth,
                         const torch::Tensor& groups, int64_t num_groups,
                         double iou_threshold = 0.5);

}  // namespace lookalike::localise
