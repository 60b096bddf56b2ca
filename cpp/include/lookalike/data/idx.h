#pragma once
// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
#include <string>

#include "lookalike/data/dataset.h"

namespace lookalike::data {

/// Reads an IDX file of unsigned bytes (type 0x08) into a uint8 tensor shaped by the file's
/// dimensions, e.g. [60000, 28, 28] for images, [60000] for labels. Gzip is detected by its
/// magic bytes. Throws FileError naming the file when it is missing, not IDX, of another
/// element type, truncated, or has trailing bytes.
torch::Tensor read_idx(const std::string& path);

/// The directory holding Fashion-MNIST: $LOOKALIKE_FASHION_MNIST, else
/// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
std::string default_fashion_mnist_root();

/// Fashion-MNIST `split` ("train": 60k, "test": 10k) from `root` (empty: the default root).
/// images uint8 [N, 1, 28, 28], labels int64 [N] in 0..9.
Dataset fashion_mnist(const std::string& split, const std::string& root = "");

}  // namespace lookalike::data
