#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/noisy/confident.h"
#include "lookalike/noisy/filter.h"
#include "lookalike/noisy/noise.h"
#include "lookalike/train/cross_val.h"
#include "options.h"

namespace lookalike::python {

void bind_noisy(py::module_& m) {
  auto x = m.def_submodule("noisy", "label noise: simulation, confident learning");
  const auto release = py::call_guard<py::gil_scoped_release>();
  x.def("filters", &noisy::filters, "the noisy-label filter names, from the C++ registry");
  bind_options<noisy::NoiseOptions>(x, "NoiseOptions", "label-noise simulation");
  x.def(
      "inject_noise",
      [](const torch::Tensor& labels, const noisy::NoiseOptions& o) {
        auto r = noisy::inject_noise(labels, o);
        return std::make_tuple(r.noisy_labels, r.corrupted, r.transition, r.realised_rate);
      },
      py::arg("labels"), py::arg("options"), release);
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
        return train::cross_val_pred_probs({images, labels}, folds, options, seed);
      },
      py::arg("images"), py::arg("labels"), py::arg("folds"), py::arg("options"),
      py::arg("seed") = 0, release);
}

}  // namespace lookalike::python
