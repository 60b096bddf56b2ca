#pragma once
// The network the Trainer trains and infer() runs: a backbone by name (models/backbone.h), an
// embedding head (pooling, optional projection + batch norm) and, for classification, a linear
// classifier. With the defaults it is the ConvNet: conv3x3-BN-ReLU stages, global average
// pooling, Linear + BN embedding, ReLU, dropout, Linear classifier.
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "lookalike/models/backbone.h"
#include "lookalike/models/embedding_head.h"
#include "lookalike/util/options.h"

namespace lookalike::models {

struct NetOptions {
  std::string backbone = "convnet";  // a name of backbones()
  int in_channels = 0;  // 0: from the training images (Trainer); must match them when set
  std::vector<int> channels = {32, 64, 128};  // convnet only: one stage per entry
  int blocks_per_stage = 1;                   // convnet only
  double width_mult = 1.0;                    // mobilenet_v2 only
  // Pretrained weights loaded into the backbone (and the classifier when its shape matches):
  // a TFLite FlatBuffer (.tflite), a Keras HDF5 file (.h5) or a PyTorch state_dict (.pt/.pth
  // written by torch.save). Empty: random initialisation. See models/pretrained.h. For the
  // torchscript backbone: the module file torch.jit.save wrote.
  std::string weights;
  // Input normalisation: "data" (per-channel mean/std of the training images), "backbone" (the
  // backbone's pretraining statistics, or the weights file's input quantisation) or "auto"
  // (backbone when weights are given, else data).
  std::string normalization = "auto";
  int input_size = 0;           // images resized (bilinear) to this square side; 0: as given
  std::string pooling = "avg";  // "avg" | "gem"
  double gem_p = 3.0;           // GeM's initial exponent (learnt)
  int embedding_dim = 128;      // Linear + BN projection of the pooled map; 0: none
  int num_classes = 0;          // classifier outputs; 0: from the labels (Trainer) or none
  double dropout = 0.0;         // before the classifier
  // The layout of the backbone's 4-D weights and activations: "channels_last" (NHWC: oneDNN's
  // convolutions, batch norm and pooling run on it without reordering; measured 1.2x to 1.9x
  // faster training steps on 2 cores) or "contiguous" (NCHW). Numerically the same function.
  // A torchscript backbone keeps the layout its module has.
  std::string memory_format = "channels_last";
};
LOOKALIKE_OPTIONS(NetOptions, backbone, in_channels, channels, blocks_per_stage, width_mult,
                  weights, normalization, input_size, pooling, gem_p, embedding_dim, num_classes,
                  dropout, memory_format)

/// Checks the options (a known backbone, positive sizes, options that apply to the backbone);
/// throws InvalidArgument naming the first bad one.
void validate(const NetOptions& options);

/// Output of a forward pass.
///   embedding: float [B, D] (D = embedding_dim, or the backbone's channels when 0), not
///   normalised; logits: float [B, num_classes], undefined without a classifier.
struct NetOutput {
  torch::Tensor logits;
  torch::Tensor embedding;
};

class NetImpl : public torch::nn::Module {
 public:
  /// Builds the network with random weights (load pretrained ones with load_pretrained).
  explicit NetImpl(NetOptions options);

  /// x: float [B, C, H, W] in [0, 1]; resized to input_size when set, then normalised.
  NetOutput forward(const torch::Tensor& x);
  /// The backbone's feature map of x (as forward): float [B, C', h, w], contiguous (NCHW).
  torch::Tensor feature_map(const torch::Tensor& x);
  /// The rest of forward from a feature map float [B, C', h, w] (head, then the classifier):
  /// what gradient-weighted class activation maps differentiate (localise/cam.h).
  NetOutput forward_features(const torch::Tensor& feature_map);
  /// Puts the backbone's 4-D parameters in options().memory_format (after loading weights
  /// from a file whose tensors have another layout). The constructor does it for random init.
  void apply_memory_format();

  /// Sets the per-channel input normalisation (float [C] each), stored with the weights.
  void set_normalization(const torch::Tensor& mean, const torch::Tensor& std);
  /// Backbone stages [0, n) are frozen: no gradient, batch norm in eval mode (running
  /// statistics kept) even while the network trains. n = -1 freezes the whole backbone.
  void freeze_stages(int64_t n);
  int64_t frozen_stages() const { return frozen_; }
  /// With on, every batch norm of the backbone stays in eval mode while the network trains (its
  /// running statistics kept, its scale and shift still learnt): what weights whose batch norm
  /// was folded into the convolutions (TFLite) need, since batch statistics would replace them.
  void freeze_batch_norm(bool on);
  bool batch_norm_frozen() const { return bn_frozen_; }
  /// Sets training mode; frozen stages' batch norm (all of it, with freeze_batch_norm) stays in
  /// eval mode.
  void train(bool on = true) override;

  Backbone& backbone() { return *backbone_; }
  /// The classifier (undefined without one) and the embedding head.
  torch::nn::Linear classifier() { return classifier_; }
  EmbeddingHead head() { return head_; }
  /// Parameters of the backbone, and of everything else (head, classifier).
  std::vector<torch::Tensor> backbone_parameters();
  std::vector<torch::Tensor> head_parameters();
  int64_t embedding_dim() const { return head_->dim(); }
  const NetOptions& options() const { return options_; }

 private:
  // feature_map in the network's memory format (forward pools it without a copy).
  torch::Tensor features(const torch::Tensor& x);

  NetOptions options_;
  std::shared_ptr<Backbone> backbone_;
  EmbeddingHead head_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  torch::Tensor mean_, std_;
  int64_t frozen_ = 0;
  bool bn_frozen_ = false;
};
TORCH_MODULE(Net);

/// The backbone's options JSON for NetOptions (in_channels and the family's own knobs).
nlohmann::json backbone_options(const NetOptions& options);

/// True when the input normalisation comes from the training data ("data", or "auto" without
/// weights), false when from the backbone or the weights file.
bool uses_data_normalization(const NetOptions& options);

/// A Net with the options' pretrained weights loaded (load_pretrained) when `weights` is set.
Net make_net(const NetOptions& options);

}  // namespace lookalike::models
