#pragma once
// Pretrained weights from files other frameworks write, loaded into a Net's backbone (and its
// classifier when the shapes match). The format is told by the file's content, not its name:
//   TFLite FlatBuffer ("TFL3")  the CONV_2D / DEPTHWISE_CONV_2D ops in graph order onto the
//                               backbone's convolutions in module order; uint8/int8 weights
//                               dequantised ((q - zero_point) * scale); the folded batch norm's
//                               bias goes to the batch norm after each convolution, which
//                               becomes the identity. A last conv or FULLY_CONNECTED op
//                               (ImageNet's 1,001-class head) onto the classifier. The input
//                               tensor's quantisation gives the input normalisation.
//   Keras HDF5 ("\x89HDF")      the Conv2D / DepthwiseConv2D, BatchNormalization and Dense
//                               layers in the model's layer order onto the backbone's
//                               convolutions, batch norms and the classifier (HWIO -> OIHW).
//   PyTorch state_dict (zip, torch.save)
//                               by parameter name: the Net's own names ("backbone.features.0.0.
//                               weight", "head.proj.weight", ...) or the backbone's alone
//                               (torchvision's "features.0.0.weight", "conv1.weight", ...).
#include <string>
#include <vector>

#include "lookalike/models/net.h"

namespace lookalike::models {

/// What a load did: tensors written, and the file's tensors left out (with why).
struct PretrainedReport {
  std::string format;                // "tflite" | "keras_h5" | "state_dict"
  int64_t tensors_loaded = 0;        // parameters and buffers written
  std::vector<std::string> skipped;  // e.g. "classifier: file has [1001, 1280], net has none"
};

/// Loads `path` into `net`. FileError for a missing, truncated or unknown file; InvalidArgument
/// when the file's layers do not match the network (naming the layer, the file's shape and the
/// network's) or a state_dict has missing, unexpected or mis-shaped keys (listing them all).
/// The network is left as it was when the load fails.
PretrainedReport load_pretrained(NetImpl& net, const std::string& path);

/// `weights` with a leading "{pretrained}/" replaced by the shared pretrained-weights folder
/// ($LOOKALIKE_DATA/pretrained or ../shared/data/pretrained searched upwards; FileError when not
/// found), so configs and saved options name the shipped weights wherever the data is. Other
/// paths are returned as they are.
std::string resolve_weights_path(const std::string& weights);

/// The format of `path` by its first bytes: "tflite", "keras_h5", "state_dict" or "" (unknown).
std::string weights_format(const std::string& path);

}  // namespace lookalike::models
