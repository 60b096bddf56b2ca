#pragma once
// Boxes from activation maps, box geometry, and crops. A box is int64 (x0, y0, x1, y1) in
// pixels, x1 and y1 exclusive (the convention of ../shared/data/clothing-co-parsing/boxes.csv);
// an empty box is (0, 0, 0, 0).
#include <string>
#include <vector>

#include <torch/types.h>

namespace lookalike::localise {

/// Boxes of maps float [M, h, w] at each threshold (a fraction of the map's range): each map is
/// scaled to [0, 1] (minus its minimum, over its range; a constant map gives no pixel), resized
/// bilinearly to the photo's size, thresholded (pixels above the threshold), and the box is the
/// bounding box of the largest 8-connected component (`region` "largest", Zhou et al.) or of
/// all the pixels above it ("all": for a product in several pieces, a pair of shoes); none: the
/// empty box. `sizes` int64 [M, 2] (width, height per map) or [2] (one size for all). Returns
/// int64 [T, M, 4] for T thresholds (each in [0, 1]). OpenMP over maps (`threads` <= 0: torch's
/// count).
torch::Tensor boxes_from_maps(const torch::Tensor& maps, const torch::Tensor& sizes,
                              const std::vector<double>& thresholds,
                              const std::string& region = "largest", int threads = 0);

/// IoU of aligned boxes a, b int64 [M, 4] -> float [M] (0 when both are empty).
torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b);

/// InvalidArgument naming `where` unless boxes are int64 [M, 4] with 0 <= x0 <= x1 <= width and
/// 0 <= y0 <= y1 <= height (sizes as in boxes_from_maps).
void check_boxes(const torch::Tensor& boxes, const torch::Tensor& sizes, const std::string& where);

/// The whole photo as the box of each row: int64 [M, 4] (sizes int64 [M, 2]).
torch::Tensor whole_boxes(const torch::Tensor& sizes);

/// A centred box of each group's mean size: `reference` boxes int64 [R, 4] with their groups
/// int64 [R] give each group's mean width and height (as a fraction of their photo's size,
/// `reference_sizes` [R, 2] or [2]); each of the M rows (groups int64 [M], sizes [M, 2] or [2])
/// gets a box of its group's mean size centred in its photo. A group with no reference box
/// gets the mean over all of them. int64 [M, 4].
torch::Tensor centred_mean_boxes(const torch::Tensor& reference,
                                 const torch::Tensor& reference_groups,
                                 const torch::Tensor& reference_sizes, const torch::Tensor& groups,
                                 const torch::Tensor& sizes);

/// The regions `boxes` int64 [N, 4] of `images` uint8 [N, C, H, W], each resized to side x side
/// (area interpolation when shrinking, bilinear when enlarging): uint8 [N, C, side, side]. An
/// empty box crops the whole image. InvalidArgument for a box outside its image.
torch::Tensor crop_images(const torch::Tensor& images, const torch::Tensor& boxes, int64_t side,
                          int threads = 0);

}  // namespace lookalike::localise
