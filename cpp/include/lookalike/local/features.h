#pragma once
// Local features of an image: keypoints with a descriptor each, from an extractor chosen by name
// (util/registry.h; one file per family in cpp/src/local/extractors/):
//   sift    OpenCV SIFT (float 128-d descriptors, L2)
//   orb     OpenCV ORB (binary 32-byte descriptors, Hamming)
//   akaze   OpenCV AKAZE (binary 61-byte MLDB descriptors, Hamming)
//   cnn     the cells of a backbone's feature map (DELF-style): each cell's channel vector,
//           L2-normalised, the strongest cells by activation norm kept (float, L2)
// Images are uint8 [N, 3, H, W] RGB (as data::image_set and read_images give them).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/models/net.h"
#include "lookalike/util/options.h"
#include "lookalike/util/registry.h"

namespace lookalike::local {

/// The features of one image.
///   keypoints:   float [K, 4]: x, y (pixels of the image they came from, origin top-left),
///                size (diameter of the region described, pixels), angle (degrees; -1: none)
///   descriptors: float [K, D] (kind "float", compared by L2) or uint8 [K, B] (kind "binary",
///                B bytes compared by Hamming distance)
///   strength:    float [K]: the detector's response (cnn: the cell's activation norm)
/// K may be 0 (a blank image): then descriptors is [0, D] / [0, B] and matching gives nothing.
struct LocalFeatures {
  torch::Tensor keypoints;
  torch::Tensor descriptors;
  torch::Tensor strength;
  int64_t width = 0, height = 0;  // the image's size
  int64_t size() const { return keypoints.defined() ? keypoints.size(0) : 0; }
  bool binary() const { return descriptors.scalar_type() == torch::kUInt8; }
};

/// InvalidArgument naming `where` unless the tensors have the shapes and dtypes above and agree
/// in K, and every value is finite.
void check_features(const LocalFeatures& f, const std::string& where);

struct LocalOptions {
  std::string method = "sift";  // a name of local_extractors()
  int max_features = 1000;      // the strongest K kept (by strength); 0: all
  // OpenCV extractors: images are converted to grey and, when larger, shrunk so that the longer
  // side is max_side (keypoints are given back in the input image's pixels); 0: as given.
  int max_side = 0;
  double threshold = 0.0;  // detector threshold; 0: the method's default (sift contrast 0.04,
                           // akaze 0.001, orb FAST 20); cnn: minimum activation norm
  // cnn only: the network whose feature map is cut into cells (its weights, normalisation, and
  // input_size: the side images are resized to first, the cell grid being side / stride).
  models::NetOptions net;
  int batch_size = 32;  // cnn: images per forward pass
  int threads = 0;      // images extracted in parallel (OpenCV methods); <= 0: torch's count
};
LOOKALIKE_OPTIONS(LocalOptions, method, max_features, max_side, threshold, net, batch_size, threads)

/// One family of local features.
class LocalExtractor {
 public:
  virtual ~LocalExtractor() = default;
  /// images: uint8 [N, 3, H, W] RGB. One LocalFeatures per image.
  virtual std::vector<LocalFeatures> extract(const torch::Tensor& images) = 0;
  /// "float" or "binary".
  virtual std::string kind() const = 0;
};

using LocalExtractorFactory = std::shared_ptr<LocalExtractor> (*)(const LocalOptions& options);
util::Registry<LocalExtractorFactory>& local_extractor_registry();

/// The registered method names, sorted.
std::vector<std::string> local_extractors();

/// Checks the options (a known method, ranges, options that apply to it) and builds the
/// extractor; InvalidArgument naming the first bad option.
std::shared_ptr<LocalExtractor> make_local_extractor(const LocalOptions& options);

/// extract with make_local_extractor(options): images uint8 [N, 3, H, W] (InvalidArgument for
/// another dtype or shape, naming it).
std::vector<LocalFeatures> extract_local(const torch::Tensor& images, const LocalOptions& options);

/// The strongest `k` of f (by strength, ties by index), in that order; all when k <= 0 or K <= k.
LocalFeatures keep_strongest(const LocalFeatures& f, int64_t k);

}  // namespace lookalike::local
