#pragma once
// Private to models/pretrained: a load is planned first (every tensor of the file converted and
// checked against its target) and written only when the whole plan holds, so a failed load
// leaves the network as it was.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lookalike/models/net.h"
#include "lookalike/models/pretrained.h"

namespace lookalike::models::detail {

/// A convolution of the backbone (a module with a 4-D "weight"), with the batch norm that
/// follows it before the next convolution (null when none).
struct ConvLayer {
  std::string name;
  torch::Tensor weight, bias;  // [O, I / groups, kh, kw], [O] or undefined
  torch::nn::BatchNorm2dImpl* bn = nullptr;
  std::string bn_name;
};

/// The backbone's convolutions and batch norms, in module (construction) order.
struct BackboneLayers {
  std::vector<ConvLayer> convs;
  std::vector<std::pair<std::string, torch::nn::BatchNorm2dImpl*>> bns;
};
BackboneLayers backbone_layers(NetImpl& net);

struct Write {
  std::string name;
  torch::Tensor target, value;
};

class LoadPlan {
 public:
  explicit LoadPlan(std::string path) : path_(std::move(path)) {}
  /// Plans target <- value; InvalidArgument naming `what` (the file's layer) and `name` (the
  /// network's) when the shapes differ.
  void write(const std::string& name, const torch::Tensor& target, const torch::Tensor& value,
             const std::string& what);
  /// A batch norm that becomes the identity plus `bias` (a folded batch norm's shift).
  void identity_bn(const std::string& name, torch::nn::BatchNorm2dImpl& bn,
                   const torch::Tensor& bias, const std::string& what);
  /// The file's classifier (weight [O, I], bias [O]) onto the network's when it has one of
  /// that shape; otherwise recorded as skipped.
  void classifier(NetImpl& net, const torch::Tensor& weight, const torch::Tensor& bias,
                  const std::string& what);
  void skip(std::string why) { skipped_.push_back(std::move(why)); }
  /// Input normalisation the file defines (float [C] each).
  void normalization(torch::Tensor mean, torch::Tensor std) {
    mean_ = std::move(mean), std_ = std::move(std);
  }
  /// Writes everything planned into `net`.
  PretrainedReport apply(NetImpl& net, const std::string& format) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<Write> writes_;
  std::vector<std::string> skipped_;
  torch::Tensor mean_, std_;
};

/// The planners, one per format (tflite.cpp, keras_h5.cpp, state_dict.cpp).
void plan_tflite(NetImpl& net, const std::vector<char>& bytes, LoadPlan& plan);
void plan_keras_h5(NetImpl& net, LoadPlan& plan);
void plan_state_dict(NetImpl& net, const std::vector<char>& bytes, LoadPlan& plan);

}  // namespace lookalike::models::detail
