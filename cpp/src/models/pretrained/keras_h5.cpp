// Keras HDF5 weights (model.save / save_weights): Conv2D / DepthwiseConv2D, BatchNormalization
// and Dense layers in the model's layer order onto the backbone's convolutions, batch norms and
// the classifier.
#include <torch/torch.h>

#include <map>

#include "lookalike/error.h"
#include "plan.h"

#ifdef LOOKALIKE_HAVE_HDF5
#include <hdf5.h>
#endif

namespace lookalike::models::detail {

#ifdef LOOKALIKE_HAVE_HDF5
namespace {

// An HDF5 handle closed on scope exit.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// The most bytes one dataset or attribute of a file may unpack to: sizes come from the file, so
// they are bounded before anything is allocated (1,024 x the file: room for compressed chunks).
uint64_t unpack_limit(hid_t file) {
  hsize_t size = 0;
  H5Fget_filesize(file, &size);
  return 1024 * static_cast<uint64_t>(size) + (1u << 20);
}

// The element count of `space` times `element` bytes, checked against `limit` without overflow.
uint64_t checked_bytes(hid_t space, uint64_t element, uint64_t limit, const std::string& where,
                       const std::string& name) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  LOOKALIKE_CHECK_FILE(n >= 0 && element > 0 && static_cast<uint64_t>(n) <= limit / element, where,
                       ": '", name, "' declares ", n, " values of ", element,
                       " bytes, more than the file can hold");
  return static_cast<uint64_t>(n) * element;
}

// A string-array attribute (fixed-length as h5py writes numpy bytes, or variable-length).
std::vector<std::string> string_attr(hid_t obj, const char* name, const std::string& where,
                                     uint64_t limit) {
  if (H5Aexists(obj, name) <= 0) return {};
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  // Keras writes an empty (float) array for a layer without weights.
  if (space.ok() && H5Sget_simple_extent_npoints(space.get()) == 0) return {};
  LOOKALIKE_CHECK_FILE(
      attr.ok() && type.ok() && space.ok() && H5Tget_class(type.get()) == H5T_STRING, where,
      ": attribute '", name, "' is not a list of strings");
  const bool variable = H5Tis_variable_str(type.get()) > 0;
  const size_t size = variable ? sizeof(char*) : H5Tget_size(type.get());
  const auto n = static_cast<size_t>(checked_bytes(space.get(), size, limit, where, name) / size);
  std::vector<std::string> out;
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  if (variable) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    std::vector<char*> buf(n, nullptr);
    LOOKALIKE_CHECK_FILE(H5Aread(attr.get(), mem.get(), buf.data()) >= 0, where,
                         ": cannot read attribute '", name, "'");
    for (char* s : buf) out.emplace_back(s ? s : ""), H5free_memory(s);
  } else {
    H5Tset_size(mem.get(), size);
    H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);  // numpy bytes fill every character
    std::vector<char> buf(n * size, '\0');
    LOOKALIKE_CHECK_FILE(H5Aread(attr.get(), mem.get(), buf.data()) >= 0, where,
                         ": cannot read attribute '", name, "'");
    for (size_t i = 0; i < n; ++i)
      out.emplace_back(buf.data() + i * size, strnlen(buf.data() + i * size, size));
  }
  return out;
}

// A float dataset as a tensor of its shape.
torch::Tensor read_dataset(hid_t group, const std::string& name, const std::string& where,
                           uint64_t limit) {
  Handle set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  LOOKALIKE_CHECK_FILE(set.ok(), where, ": weight '", name, "' is named but missing");
  Handle space(H5Dget_space(set.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  LOOKALIKE_CHECK_FILE(rank >= 0 && rank <= 8, where, ": weight '", name, "' has a bad shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  checked_bytes(space.get(), sizeof(float), limit, where, name);
  auto t = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()), torch::kFloat);
  LOOKALIKE_CHECK_FILE(
      H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) >= 0, where,
      ": cannot read weight '", name, "' as float");
  return t;
}

// One Keras layer's weights by their short names ("kernel", "bias", "gamma", ...).
struct Layer {
  std::string name;
  std::map<std::string, torch::Tensor> weights;
  bool has(const char* w) const { return weights.count(w) > 0; }
};

std::vector<Layer> read_layers(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by the checks below
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  LOOKALIKE_CHECK_FILE(file.ok(), "'", path, "' cannot be opened as HDF5 (truncated or corrupt)");
  const bool full_model = H5Lexists(file.get(), "model_weights", H5P_DEFAULT) > 0;
  Handle root(H5Gopen2(file.get(), full_model ? "model_weights" : "/", H5P_DEFAULT), H5Gclose);
  const uint64_t limit = unpack_limit(file.get());
  const auto names = string_attr(root.get(), "layer_names", "'" + path + "'", limit);
  LOOKALIKE_CHECK_ARG(!names.empty(), "'", path,
                      "' is HDF5 but not Keras weights: no layer_names attribute");
  std::vector<Layer> layers;
  for (const auto& name : names) {
    Handle group(H5Gopen2(root.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
    LOOKALIKE_CHECK_FILE(group.ok(), "'", path, "': layer '", name, "' is listed but missing");
    Layer layer{name, {}};
    for (const auto& w :
         string_attr(group.get(), "weight_names", "'" + path + "' " + name, limit)) {
      std::string shortname = w.substr(w.rfind('/') + 1);
      shortname = shortname.substr(0, shortname.find(':'));
      layer.weights[shortname] = read_dataset(group.get(), w, "'" + path + "' " + name, limit);
    }
    if (!layer.weights.empty()) layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace

void plan_keras_h5(NetImpl& net, LoadPlan& plan) {
  const auto layers = read_layers(plan.path());
  std::vector<const Layer*> convs, bns, dense;
  for (const auto& l : layers) {
    if (l.has("depthwise_kernel") || (l.has("kernel") && l.weights.at("kernel").dim() == 4))
      convs.push_back(&l);
    else if (l.has("moving_mean"))
      bns.push_back(&l);
    else if (l.has("kernel") && l.weights.at("kernel").dim() == 2)
      dense.push_back(&l);
    else
      LOOKALIKE_CHECK_ARG(false, "'", plan.path(), "': layer '", l.name,
                          "' is none of Conv2D, DepthwiseConv2D, BatchNormalization, Dense");
  }
  const auto target = backbone_layers(net);
  LOOKALIKE_CHECK_ARG(
      convs.size() == target.convs.size() && bns.size() == target.bns.size() && dense.size() <= 1,
      "'", plan.path(), "' has ", convs.size(), " convolution, ", bns.size(), " batch-norm and ",
      dense.size(), " dense layers; the ", net.options().backbone, " backbone has ",
      target.convs.size(), " and ", target.bns.size(), " (plus at most one dense classifier)");
  std::map<const torch::nn::BatchNorm2dImpl*, torch::Tensor> folded;  // conv bias into its BN
  for (size_t i = 0; i < convs.size(); ++i) {
    const Layer& l = *convs[i];
    const auto& conv = target.convs[i];
    torch::Tensor w = l.has("depthwise_kernel")  // [kh, kw, C, M] -> [C * M, 1, kh, kw]
                          ? l.weights.at("depthwise_kernel").permute({2, 3, 0, 1})
                          : l.weights.at("kernel").permute({3, 2, 0, 1});  // HWIO -> OIHW
    if (l.has("depthwise_kernel")) w = w.reshape({-1, 1, w.size(2), w.size(3)});
    plan.write("backbone." + conv.name + ".weight", conv.weight, w, "layer '" + l.name + "'");
    if (!l.has("bias")) continue;
    if (conv.bias.defined()) {
      plan.write("backbone." + conv.name + ".bias", conv.bias, l.weights.at("bias"),
                 "layer '" + l.name + "' bias");
    } else {
      LOOKALIKE_CHECK_ARG(conv.bn, "'", plan.path(), "': layer '", l.name, "' has a bias but ",
                          conv.name, " has neither a bias nor a batch norm after it");
      folded[conv.bn] = l.weights.at("bias");  // BN(x + b) = BN with running_mean - b
    }
  }
  for (size_t i = 0; i < bns.size(); ++i) {
    const Layer& l = *bns[i];
    const auto& [name, bn] = target.bns[i];
    const std::string what = "layer '" + l.name + "'";
    const std::string at = "backbone." + name;
    auto mean = l.weights.at("moving_mean");
    if (folded.count(bn)) mean = mean - folded.at(bn);
    plan.write(at + ".weight", bn->weight,
               l.has("gamma") ? l.weights.at("gamma") : torch::ones_like(bn->weight), what);
    plan.write(at + ".bias", bn->bias,
               l.has("beta") ? l.weights.at("beta") : torch::zeros_like(bn->bias), what);
    plan.write(at + ".running_mean", bn->running_mean, mean, what);
    LOOKALIKE_CHECK_ARG(l.has("moving_variance"), "'", plan.path(), "': ", what,
                        " has no moving_variance");
    plan.write(at + ".running_var", bn->running_var, l.weights.at("moving_variance"), what);
  }
  if (!dense.empty()) {
    const Layer& l = *dense[0];
    plan.classifier(net, l.weights.at("kernel").t().contiguous(),
                    l.has("bias") ? l.weights.at("bias") : torch::Tensor(),
                    "layer '" + l.name + "'");
  }
}

#else

void plan_keras_h5(NetImpl&, LoadPlan& plan) {
  throw InvalidArgument(::lookalike::detail::concat(
      "'", plan.path(),
      "' is an HDF5 file, and this build of lookalike has no HDF5 (install "
      "libhdf5-dev, then rebuild)"));
}

#endif

}  // namespace lookalike::models::detail
