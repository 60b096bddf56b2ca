// TFLite FlatBuffer weights: the convolution ops in graph order onto the backbone's
// convolutions (BN folded into the file's conv bias), dequantised.
#include <torch/torch.h>

#include "lookalike/error.h"
#include "plan.h"

#ifdef LOOKALIKE_HAVE_FLATBUFFERS
#include "tflite_schema_generated.h"
#endif

namespace lookalike::models::detail {

#ifdef LOOKALIKE_HAVE_FLATBUFFERS
namespace {

namespace tfl = ::lookalike::tflite;
constexpr int kConv2D = 3, kDepthwiseConv2D = 4, kFullyConnected = 9;

// One file tensor as float, dequantised: (q - zero_point) * scale, per tensor or per channel
// along quantized_dimension. Shape as in the file.
torch::Tensor dequantise(const tfl::Model& model, const tfl::Tensor& t, const std::string& path) {
  const std::string name = t.name() ? t.name()->str() : "?";
  LOOKALIKE_CHECK_FILE(t.shape() && model.buffers() && t.buffer() < model.buffers()->size(), "'",
                       path, "': tensor '", name, "' has no shape or buffer");
  std::vector<int64_t> shape(t.shape()->begin(), t.shape()->end());
  int64_t n = 1;
  for (auto d : shape) n *= d;
  const auto* data = model.buffers()->Get(t.buffer())->data();
  torch::ScalarType type;
  switch (t.type()) {
    case tfl::TensorType_FLOAT32:
      type = torch::kFloat;
      break;
    case tfl::TensorType_UINT8:
      type = torch::kUInt8;
      break;
    case tfl::TensorType_INT8:
      type = torch::kChar;
      break;
    case tfl::TensorType_INT32:
      type = torch::kInt;
      break;
    default:
      throw InvalidArgument(::lookalike::detail::concat(
          "'", path, "': tensor '", name, "' has TFLite type ", tfl::EnumNameTensorType(t.type()),
          "; weights must be float32, uint8, int8 "
          "or int32"));
  }
  const int64_t bytes = n * static_cast<int64_t>(c10::elementSize(type));
  LOOKALIKE_CHECK_FILE(data && static_cast<int64_t>(data->size()) == bytes, "'", path,
                       "': tensor '", name, "' needs ", bytes, " bytes of data, its buffer has ",
                       data ? data->size() : 0, " (truncated or not weights)");
  auto raw = torch::from_blob(const_cast<uint8_t*>(data->data()), shape, type).to(torch::kFloat);
  if (type == torch::kFloat) return raw.clone();
  const auto* q = t.quantization();
  LOOKALIKE_CHECK_FILE(q && q->scale() && q->scale()->size() > 0, "'", path, "': tensor '", name,
                       "' is ", tfl::EnumNameTensorType(t.type()), " without a scale");
  auto scale = torch::tensor(std::vector<float>(q->scale()->begin(), q->scale()->end()));
  auto zero =
      q->zero_point() && q->zero_point()->size() > 0
          ? torch::tensor(std::vector<int64_t>(q->zero_point()->begin(), q->zero_point()->end()))
                .to(torch::kFloat)
          : torch::zeros_like(scale);
  if (scale.numel() > 1) {  // per channel
    const int64_t dim = q->quantized_dimension();
    LOOKALIKE_CHECK_FILE(dim >= 0 && dim < raw.dim() && raw.size(dim) == scale.numel(), "'", path,
                         "': tensor '", name, "' has ", scale.numel(),
                         " scales for quantised dimension ", dim, " of ", raw.sizes());
    std::vector<int64_t> view(static_cast<size_t>(raw.dim()), 1);
    view[static_cast<size_t>(dim)] = -1;
    scale = scale.view(view), zero = zero.numel() > 1 ? zero.view(view) : zero;
  }
  return (raw - zero) * scale;
}

// The weight in PyTorch's layout: CONV_2D [O, kh, kw, I] and DEPTHWISE_CONV_2D [1, kh, kw, O]
// to [O, I / groups, kh, kw]; FULLY_CONNECTED [O, I] as is.
torch::Tensor torch_layout(const torch::Tensor& w, int code) {
  if (code == kConv2D) return w.permute({0, 3, 1, 2}).contiguous();
  if (code == kDepthwiseConv2D) return w.permute({3, 0, 1, 2}).contiguous();
  return w;
}

struct ConvOp {
  int code;
  torch::Tensor weight, bias;  // PyTorch layout; bias [O] or undefined
  std::string name;
};

std::vector<ConvOp> conv_ops(const tfl::Model& model, const std::string& path) {
  LOOKALIKE_CHECK_FILE(model.subgraphs() && model.subgraphs()->size() > 0 && model.operator_codes(),
                       "'", path, "': the TFLite model has no subgraph or operator codes");
  const auto& graph = *model.subgraphs()->Get(0);
  LOOKALIKE_CHECK_FILE(graph.tensors() && graph.operators(), "'", path,
                       "': the TFLite subgraph has no tensors or operators");
  std::vector<ConvOp> ops;
  for (const auto* op : *graph.operators()) {
    LOOKALIKE_CHECK_FILE(op->opcode_index() < model.operator_codes()->size(), "'", path,
                         "': operator code index out of range");
    const auto* oc = model.operator_codes()->Get(op->opcode_index());
    const int code = std::max<int>(oc->deprecated_builtin_code(), oc->builtin_code());
    if (code != kConv2D && code != kDepthwiseConv2D && code != kFullyConnected) continue;
    LOOKALIKE_CHECK_FILE(op->inputs() && op->inputs()->size() >= 2, "'", path,
                         "': a convolution op without weights");
    auto tensor = [&](int i) -> const tfl::Tensor& {
      LOOKALIKE_CHECK_FILE(i >= 0 && static_cast<uint32_t>(i) < graph.tensors()->size(), "'", path,
                           "': tensor index ", i, " out of range");
      return *graph.tensors()->Get(static_cast<uint32_t>(i));
    };
    const auto& w = tensor(op->inputs()->Get(1));
    ConvOp c{
        code, torch_layout(dequantise(model, w, path), code), {}, w.name() ? w.name()->str() : "?"};
    if (op->inputs()->size() >= 3 && op->inputs()->Get(2) >= 0)
      c.bias = dequantise(model, tensor(op->inputs()->Get(2)), path);
    ops.push_back(std::move(c));
  }
  return ops;
}

// The input normalisation of a uint8 input quantised as real = (q - zero) * scale, for pixels
// p = q / 255 in [0, 1]: mean zero / 255, std 1 / (255 scale).
void input_normalization(const tfl::Model& model, NetImpl& net, LoadPlan& plan) {
  const auto& graph = *model.subgraphs()->Get(0);
  if (!graph.inputs() || graph.inputs()->size() != 1) return;
  const auto* t = graph.tensors()->Get(static_cast<uint32_t>(graph.inputs()->Get(0)));
  const auto* q = t->quantization();
  if (t->type() != tfl::TensorType_UINT8 || !q || !q->scale() || q->scale()->size() != 1) return;
  const double scale = q->scale()->Get(0);
  const double zero = q->zero_point() && q->zero_point()->size() ? q->zero_point()->Get(0) : 0;
  const int64_t c = net.options().in_channels;
  plan.normalization(torch::full({c}, zero / 255.0), torch::full({c}, 1.0 / (255.0 * scale)));
}

}  // namespace

void plan_tflite(NetImpl& net, const std::vector<char>& bytes, LoadPlan& plan) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size(), /*max_depth=*/64, /*max_tables=*/10000000);
  LOOKALIKE_CHECK_FILE(tfl::VerifyModelBuffer(verifier), "'", plan.path(),
                       "' is not a valid TFLite FlatBuffer (truncated or corrupt)");
  const auto& model = *tfl::GetModel(data);
  const auto ops = conv_ops(model, plan.path());
  const auto layers = backbone_layers(net);
  const size_t n = layers.convs.size();
  LOOKALIKE_CHECK_ARG(ops.size() == n || ops.size() == n + 1, "'", plan.path(), "' has ",
                      ops.size(), " convolution / fully-connected ops; the ",
                      net.options().backbone, " backbone has ", n,
                      " convolutions (plus one for a classifier)");
  for (size_t i = 0; i < n; ++i) {
    const auto& op = ops[i];
    const auto& conv = layers.convs[i];
    LOOKALIKE_CHECK_ARG(op.code != kFullyConnected, "'", plan.path(), "': op ", i, " ('", op.name,
                        "') is fully connected where the backbone has convolution ", conv.name);
    const std::string what = "op " + std::to_string(i) + " ('" + op.name + "')";
    plan.write("backbone." + conv.name + ".weight", conv.weight, op.weight, what);
    const auto bias = op.bias.defined() ? op.bias : torch::zeros({op.weight.size(0)});
    if (conv.bias.defined()) {
      plan.write("backbone." + conv.name + ".bias", conv.bias, bias, what + " bias");
    } else {
      LOOKALIKE_CHECK_ARG(conv.bn, "'", plan.path(), "': ", what, " has a bias but backbone ",
                          "convolution ", conv.name, " has neither a bias nor a batch norm");
      plan.identity_bn("backbone." + conv.bn_name, *conv.bn, bias, what);
    }
  }
  if (ops.size() == n + 1) {
    const auto& op = ops[n];
    plan.classifier(net, op.weight.reshape({op.weight.size(0), -1}), op.bias, "'" + op.name + "'");
  }
  input_normalization(model, net, plan);
}

#else

void plan_tflite(NetImpl&, const std::vector<char>&, LoadPlan& plan) {
  throw InvalidArgument(::lookalike::detail::concat(
      "'", plan.path(),
      "' is a TFLite file, and this build of lookalike has no FlatBuffers "
      "(install libflatbuffers-dev and flatbuffers-compiler, then rebuild)"));
}

#endif

}  // namespace lookalike::models::detail
