#pragma once
// Image decoding with OpenCV (when built with it).
#include <string>

#include <torch/types.h>

namespace lookalike::data {

/// True when this build can decode images (OpenCV found at configure time).
bool have_image_io();

/// Decodes an image file to RGB and resizes it to size x size (area interpolation when
/// shrinking). Returns uint8 [3, size, size]. Throws FileError naming the file when it is
/// missing, empty, truncated (JPEG without its end-of-image marker) or not decodable.
torch::Tensor read_image(const std::string& path, int size);

}  // namespace lookalike::data
