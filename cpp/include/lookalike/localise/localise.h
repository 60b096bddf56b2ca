#pragma once
// Product-region localisation: a classifier's activation map for a class (cam.h), thresholded
// at a fraction of its range, the largest connected component's box (boxes.h).
#include <torch/types.h>

#include "lookalike/localise/cam.h"
#include "lookalike/models/net.h"
#include "lookalike/util/options.h"

namespace lookalike::localise {

struct LocaliseOptions {
  CamOptions cam;
  double threshold = 0.2;          // fraction of the map's range (Zhou et al.'s CAM boxes: 20 %)
  std::string region = "largest";  // "largest" connected component | "all" pixels above it
  int threads = 0;                 // box extraction (OpenMP over maps); <= 0: torch's count
};
LOOKALIKE_OPTIONS(LocaliseOptions, cam, threshold, region, threads)

/// Boxes and the maps they came from, one per (image, class) row.
///   boxes: int64 [M, 4] (x0, y0, x1, y1), x1/y1 exclusive, in the pixels of `sizes`;
///   maps, classes, scores: as ActivationMaps.
struct Localised {
  torch::Tensor boxes;
  torch::Tensor maps;
  torch::Tensor classes;
  torch::Tensor scores;
};

/// Localises the rows (`classes`, `image_index` as activation_maps) in `images` uint8/float
/// [N, C, H, W]. `sizes` int64 [M, 2] or [2] (width, height) gives the pixel grid of the boxes
/// (the photos' own size when the images were resized to feed the network); undefined: W, H.
Localised localise(models::Net& net, const torch::Tensor& images, const torch::Tensor& classes = {},
                   const torch::Tensor& image_index = {}, const torch::Tensor& sizes = {},
                   const LocaliseOptions& options = {});

}  // namespace lookalike::localise
