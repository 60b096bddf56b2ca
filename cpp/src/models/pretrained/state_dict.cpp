// PyTorch state_dicts written by torch.save: loaded by parameter name, strictly.
#include <torch/torch.h>

#include <map>
#include <set>
#include <sstream>

#include "lookalike/error.h"
#include "plan.h"

namespace lookalike::models::detail {

namespace {

std::map<std::string, torch::Tensor> read_dict(const std::vector<char>& bytes,
                                               const std::string& path) {
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw FileError(::lookalike::detail::concat("'", path,
                                                "' cannot be read as a torch.save file "
                                                "(truncated, or a TorchScript archive: use the "
                                                "torchscript backbone for those)"));
  }
  LOOKALIKE_CHECK_ARG(value.isGenericDict(), "'", path, "' holds a ", value.tagKind(),
                      ", not a state_dict (a mapping of names to "
                      "tensors)");
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : value.toGenericDict()) {
    LOOKALIKE_CHECK_ARG(item.key().isString() && item.value().isTensor(), "'", path,
                        "': a state_dict maps names to tensors; found a ", item.key().tagKind(),
                        " -> ", item.value().tagKind(), " entry");
    out[item.key().toStringRef()] = item.value().toTensor();
  }
  return out;
}

// The classifier keys of torchvision's models, loaded into the Net's classifier when it has one
// of the same shape (else skipped): a backbone's state_dict may carry its ImageNet head.
const std::set<std::string> kHeadKeys = {"fc.weight", "fc.bias", "classifier.1.weight",
                                         "classifier.1.bias"};

std::string list(const std::vector<std::string>& names) {
  std::ostringstream s;
  for (size_t i = 0; i < names.size(); ++i) s << (i ? ", " : "") << names[i];
  return s.str();
}

}  // namespace

void plan_state_dict(NetImpl& net, const std::vector<char>& bytes, LoadPlan& plan) {
  const auto dict = read_dict(bytes, plan.path());
  // The Net's own names, or (no key under "backbone.") the backbone's alone.
  bool whole = false;
  for (const auto& [key, value] : dict) whole = whole || key.rfind("backbone.", 0) == 0;
  std::map<std::string, torch::Tensor> targets;
  if (whole) {
    for (const auto& p : net.named_parameters()) targets[p.key()] = p.value();
    for (const auto& b : net.named_buffers()) targets[b.key()] = b.value();
  } else {
    for (const auto& p : net.backbone().named_parameters()) targets[p.key()] = p.value();
    for (const auto& b : net.backbone().named_buffers()) targets[b.key()] = b.value();
  }
  std::vector<std::string> missing, unexpected, misshaped;
  for (const auto& [key, target] : targets)
    if (!dict.count(key)) missing.push_back(key);
  torch::Tensor head_w, head_b;
  for (const auto& [key, value] : dict) {
    auto it = targets.find(key);
    if (it == targets.end()) {
      if (!whole && kHeadKeys.count(key)) {
        (key.find("weight") != std::string::npos ? head_w : head_b) = value;
        continue;
      }
      unexpected.push_back(key);
    } else if (it->second.sizes() != value.sizes()) {
      std::ostringstream s;
      s << key << " (file " << value.sizes() << ", network " << it->second.sizes() << ")";
      misshaped.push_back(s.str());
    }
  }
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::ostringstream s;
    s << "'" << plan.path() << "' does not fit the " << net.options().backbone << " "
      << (whole ? "network" : "backbone") << ":";
    if (!missing.empty()) s << "\n  missing keys: " << list(missing);
    if (!unexpected.empty()) s << "\n  unexpected keys: " << list(unexpected);
    if (!misshaped.empty()) s << "\n  mis-shaped keys: " << list(misshaped);
    throw InvalidArgument(s.str());
  }
  const std::string prefix = whole ? "" : "backbone.";
  for (const auto& [key, target] : targets)
    plan.write(prefix + key, target, dict.at(key).to(torch::kCPU), "'" + key + "'");
  if (head_w.defined()) plan.classifier(net, head_w, head_b, "(torchvision head)");
}

}  // namespace lookalike::models::detail
