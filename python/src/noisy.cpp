#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/noisy/confident.h"
#include "lookalike/noisy/noise.h"

namespace lookalike::python {

void bind_noisy(py::module_& m) {
  auto x = m.def_submodule("noisy", "label noise: simulation, confident learning");
  const auto release = py::call_guard<py::gil_scoped_release>();
  x.def(
      "inject_noise",
      [](const torch::Tensor& labels, const std::string& kind, double rate, int64_t num_classes,
         uint64_t seed, std::optional<torch::Tensor> transition,
         std::optional<torch::Tensor> features, double instance_std) {
        noisy::NoiseOptions o;
        o.kind = kind;
        o.rate = rate;
        o.num_classes = num_classes;
        o.seed = seed;
        o.transition = transition.value_or(torch::Tensor());
        o.features = features.value_or(torch::Tensor());
        o.instance_std = instance_std;
        auto r = noisy::inject_noise(labels, o);
        return std::make_tuple(r.noisy_labels, r.corrupted, r.transition, r.realised_rate);
      },
      py::arg("labels"), py::arg("kind"), py::arg("rate"), py::arg("num_classes"), py::arg("seed"),
      py::arg("transition"), py::arg("features"), py::arg("instance_std"), release);
  x.def("realised_transition", &noisy::realised_transition, py::arg("clean"), py::arg("noisy"),
        py::arg("num_classes") = 0, release);
  x.def("class_thresholds", &noisy::class_thresholds, py::arg("labels"), py::arg("pred_probs"),
        release);
  x.def("confident_joint", &noisy::confident_joint, py::arg("labels"), py::arg("pred_probs"),
        py::arg("calibrate") = false, release);
  x.def("estimate_noise_rate", &noisy::estimate_noise_rate, py::arg("labels"),
        py::arg("pred_probs"), release);
  x.def("find_label_issues", &noisy::find_label_issues, py::arg("labels"), py::arg("pred_probs"),
        py::arg("filter_by") = "prune_by_noise_rate", py::arg("frac_noise") = 1.0, release);
  x.def("rank_by_self_confidence", &noisy::rank_by_self_confidence, py::arg("labels"),
        py::arg("pred_probs"), release);
  x.def(
      "cross_val_pred_probs",
      [](const torch::Tensor& images, const torch::Tensor& labels, int64_t folds,
         const train::TrainOptions& options, uint64_t seed) {
        return noisy::cross_val_pred_probs({images, labels}, folds, options, seed);
      },
      py::arg("images"), py::arg("labels"), py::arg("folds"), py::arg("options"),
      py::arg("seed") = 0, release);
}

}  // namespace lookalike::python
