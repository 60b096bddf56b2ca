#pragma once
// Image decoding with OpenCV (when built with it).
#include <string>
#include <vector>

#include <torch/types.h>

namespace lookalike::data {

/// True when this build can decode images (OpenCV found at configure time).
bool have_image_io();

/// Decodes an image file to RGB and resizes it to size x size (area interpolation when
/// shrinking). Returns uint8 [3, size, size]. Throws FileError naming the file when it is
/// missing, empty, truncated (JPEG without its end-of-image marker) or not decodable. With
/// `original`, original[0] and original[1] receive the decoded image's width and height.
torch::Tensor read_image(const std::string& path, int size, int64_t* original = nullptr);

/// Decodes many images in parallel (OpenMP, `threads` <= 0: torch's count) into uint8
/// [N, 3, size, size]. Without `failed` the first FileError is rethrown; with it, failed[i] is set
/// to 1 for each image that cannot be read (its slot stays unset) and decoding goes on. With
/// `sizes`, it receives int64 [N, 2]: each image's width and height before resizing.
torch::Tensor read_images(const std::vector<std::string>& paths, int size, int threads,
                          std::vector<char>* failed = nullptr, torch::Tensor* sizes = nullptr);

/// The catalogue readers' one decoding path (data::read_catalog, dedup::read_listings): the files
/// decoded in parallel, and what an unreadable one does — bad_image "error" (FileError naming
/// it) or "skip" (left out). images uint8 [K, 3, size, size] for kept (K row indices into
/// paths); sizes int64 [K, 2]: their width and height before resizing.
struct DecodedImages {
  torch::Tensor images;
  torch::Tensor sizes;
  std::vector<int64_t> kept;
};
DecodedImages decode_images(const std::vector<std::string>& paths, int size, int threads,
                            const std::string& bad_image);
/// InvalidArgument unless bad_image is "error" or "skip" (`where` names the option).
void check_bad_image(const std::string& bad_image, const std::string& where);

}  // namespace lookalike::data
