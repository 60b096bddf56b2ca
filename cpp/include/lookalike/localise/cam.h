#pragma once
// Class activation maps: where in a photo a classifier sees a class.
//   cam      Zhou et al. 2016: for a classifier on the average-pooled feature map,
//            map_c = sum_k w_ck F_k (so mean(map_c) + b_c is the class's logit). Needs
//            pooling "avg" and no embedding projection (embedding_dim 0).
//   gradcam  Selvaraju et al. 2017: map_c = ReLU(sum_k a_ck F_k), a_ck the spatial mean of
//            d logit_c / d F_k; for any head (projection, GeM). On a CAM network it is
//            ReLU(cam) / (h w).
//   auto     cam when the network allows it, else gradcam.
#include <string>

#include <torch/types.h>

#include "lookalike/models/net.h"
#include "lookalike/util/options.h"

namespace lookalike::localise {

struct CamOptions {
  std::string method = "auto";  // "auto" | "cam" | "gradcam"
  int64_t batch_size = 32;      // images per forward pass
  std::string device = "cpu";   // "cpu" | "cuda" | "cuda:N"
};
LOOKALIKE_OPTIONS(CamOptions, method, batch_size, device)

/// The methods' names, sorted.
std::vector<std::string> cam_methods();

/// Maps and the classes they are for.
///   maps: float [N, h, w] at the feature map's resolution (not normalised; boxes.h scales each
///   to [0, 1]); classes: int64 [N]; scores: float [N], the class's logit.
struct ActivationMaps {
  torch::Tensor maps;
  torch::Tensor classes;
  torch::Tensor scores;
};

/// The method "auto" resolves to for `net` ("cam" or "gradcam"); InvalidArgument when the
/// network has no classifier, or "cam" is asked of a head it does not apply to.
std::string resolve_cam_method(models::Net& net, const std::string& method);

/// Activation maps of M (image, class) rows: `images` uint8 or float [N, C, H, W] (as
/// Net::forward; each image's feature map is computed once), `classes` int64 [M] (each in
/// [0, num_classes), or -1 for the image's top-scoring class; undefined: M = N, all -1),
/// `image_index` int64 [M] (the image of each row, in [0, N); undefined: row i is image i, M =
/// N). InvalidArgument for a network without a classifier, a class or index out of range, a
/// shape or dtype other than these.
ActivationMaps activation_maps(models::Net& net, const torch::Tensor& images,
                               const torch::Tensor& classes = {},
                               const torch::Tensor& image_index = {},
                               const CamOptions& options = {});

}  // namespace lookalike::localise
