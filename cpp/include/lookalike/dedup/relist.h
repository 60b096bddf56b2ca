#pragma once
// Simulated re-listings: what a second seller's offer of the same product looks like, made
// from a real item — a re-shot photo (crop and rescale, mirror, background tint, colour shift,
// JPEG re-compression) and a re-typed title (perturb_title). Used where a catalogue has no
// real duplicate groups (fashion-products); every output marks these groups as simulated.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/dedup/listings.h"
#include "lookalike/dedup/text.h"

#include "lookalike/util/options.h"

namespace lookalike::dedup {

struct PhotoNoise {
  double min_crop = 0.75;                  // side of the kept crop, as a share of the image side
  double flip = 0.3;                       // mirror probability
  double background = 0.5;                 // probability of tinting the (near-white) background
  int hue = 8;                             // hue shift range, OpenCV units (180 = full circle)
  double saturation = 0.2, value = 0.15;   // multiplicative ranges
  double jpeg = 1.0;                       // probability of JPEG re-compression
  int min_quality = 30, max_quality = 80;  // at a quality drawn from this range
};
LOOKALIKE_OPTIONS(PhotoNoise, min_crop, flip, background, hue, saturation, value, jpeg, min_quality,
                  max_quality)

/// A re-shot version of an RGB image (uint8 [3, S, S]); needs OpenCV.
torch::Tensor perturb_image(const torch::Tensor& image, std::mt19937_64& rng,
                            const PhotoNoise& noise = {});

struct RelistOptions {
  int64_t originals = 0;  // items that get re-listings, drawn at random; 0: all
  int min_copies = 1;     // re-listings per chosen item, uniform in [min_copies, max_copies]
  int max_copies = 3;
  TitleNoise title;
  PhotoNoise photo;
  uint64_t seed = 0;
};
LOOKALIKE_OPTIONS(RelistOptions, originals, min_copies, max_copies, title, photo, seed)

/// Re-listings of `titles` (and `images` uint8 [N, 3, S, S] when defined): source[i] is the row
/// each new listing copies; titles and images are the re-typed title and re-shot photo.
struct Relistings {
  std::vector<int64_t> source;
  std::vector<std::string> titles;
  torch::Tensor images;
};
Relistings simulate_relistings(const std::vector<std::string>& titles, const torch::Tensor& images,
                               const RelistOptions& options);

/// `base` followed by simulated re-listings of its items (simulate_relistings over its titles and
/// images): copy k of row s gets id "<id of s>~relist<k>", the re-typed title (also as its
/// text), the attributes of s and, when `base` has images, the re-shot photo; no phash. Returns
/// the listings and their groups (int64 [N + M]): row i of `base` is group i, a copy is in its
/// source's group. The source line says how many copies were added.
std::pair<Listings, torch::Tensor> with_relistings(const Listings& base,
                                                   const RelistOptions& options);

}  // namespace lookalike::dedup
