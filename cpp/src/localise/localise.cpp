#include "lookalike/localise/localise.h"

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/localise/boxes.h"

namespace lookalike::localise {

Localised localise(models::Net& net, const torch::Tensor& images, const torch::Tensor& classes,
                   const torch::Tensor& image_index, const torch::Tensor& sizes,
                   const LocaliseOptions& options) {
  LOOKALIKE_CHECK_ARG(options.threshold >= 0.0 && options.threshold <= 1.0,
                      "LocaliseOptions.threshold is a fraction of the map's range, in [0, 1]; got ",
                      options.threshold);
  auto maps = activation_maps(net, images, classes, image_index, options.cam);
  const auto grid =
      sizes.defined() ? sizes : torch::tensor({images.size(3), images.size(2)}, torch::kLong);
  Localised out;
  out.boxes =
      boxes_from_maps(maps.maps, grid, {options.threshold}, options.region, options.threads)[0];
  out.maps = maps.maps;
  out.classes = maps.classes;
  out.scores = maps.scores;
  return out;
}

}  // namespace lookalike::localise
