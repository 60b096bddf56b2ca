// lookalike._core.localise: class activation maps, boxes, localisation metrics, crops; and the
// linear probe (lookalike._core.train) that trains the classifier a map needs.
#include <optional>

#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/localise/boxes.h"
#include "lookalike/localise/cam.h"
#include "lookalike/localise/localise.h"
#include "lookalike/localise/wsol.h"
#include "lookalike/train/linear_probe.h"
#include "options.h"

namespace lookalike::python {

void bind_localise(py::module_& m) {
  using namespace lookalike::localise;
  using models::Net;
  using Opt = std::optional<torch::Tensor>;
  const auto release = py::call_guard<py::gil_scoped_release>();
  auto t = m.attr("train").cast<py::module_>();
  bind_options<train::ProbeOptions>(t, "ProbeOptions", "the linear probe's training options")
      .def("validate", [](const train::ProbeOptions& o) { train::validate(o); });
  t.def("pooled_features", &train::pooled_features, py::arg("net"), py::arg("images"),
        py::arg("batch_size") = 64, py::arg("device") = "cpu", release,
        "float [N, D]: the pooled features the classifier reads (not normalised)");
  t.def("fit_linear_probe", &train::fit_linear_probe, py::arg("net"), py::arg("features"),
        py::arg("targets"), py::arg("options") = train::ProbeOptions(), release,
        "trains net's classifier on pooled features: targets int64 [N] or 0/1 float [N, K]");

  t.def("probe_logits", &train::probe_logits, py::arg("net"), py::arg("features"), release,
        "float [N, K]: the classifier's logits from pooled features (no backbone pass)");

  auto x = m.def_submodule("localise", "class activation maps, boxes, localisation metrics");
  bind_options<CamOptions>(x, "CamOptions", "class activation maps");
  bind_options<LocaliseOptions>(x, "LocaliseOptions", "localisation: maps and their threshold");
  x.def("cam_methods", &cam_methods);
  x.def("resolve_cam_method", &resolve_cam_method, py::arg("net"), py::arg("method"));
  x.def(
      "activation_maps",
      [](Net& net, const torch::Tensor& images, Opt classes, Opt image_index, const CamOptions& o) {
        ActivationMaps r;
        {
          py::gil_scoped_release unlocked;
          r = activation_maps(net, images, classes.value_or(torch::Tensor()),
                              image_index.value_or(torch::Tensor()), o);
        }
        return py::make_tuple(r.maps, r.classes, r.scores);
      },
      py::arg("net"), py::arg("images"), py::arg("classes") = py::none(),
      py::arg("image_index") = py::none(), py::arg("options") = CamOptions(),
      "(maps float [M, h, w], classes int64 [M], scores float [M])");
  x.def(
      "localise",
      [](Net& net, const torch::Tensor& images, Opt classes, Opt image_index, Opt sizes,
         const LocaliseOptions& o) {
        Localised r;
        {
          py::gil_scoped_release unlocked;
          r = localise::localise(net, images, classes.value_or(torch::Tensor()),
                                 image_index.value_or(torch::Tensor()),
                                 sizes.value_or(torch::Tensor()), o);
        }
        return py::make_tuple(r.boxes, r.maps, r.classes, r.scores);
      },
      py::arg("net"), py::arg("images"), py::arg("classes") = py::none(),
      py::arg("image_index") = py::none(), py::arg("sizes") = py::none(),
      py::arg("options") = LocaliseOptions(), "(boxes int64 [M, 4], maps, classes, scores)");
  x.def("boxes_from_maps", &boxes_from_maps, py::arg("maps"), py::arg("sizes"),
        py::arg("thresholds"), py::arg("region") = "largest", py::arg("threads") = 0, release,
        "int64 [T, M, 4]");
  x.def("box_iou", &box_iou, py::arg("a"), py::arg("b"));
  x.def("check_boxes", &check_boxes, py::arg("boxes"), py::arg("sizes"),
        py::arg("where") = "boxes");
  x.def("whole_boxes", &whole_boxes, py::arg("sizes"));
  x.def("centred_mean_boxes", &centred_mean_boxes, py::arg("reference"),
        py::arg("reference_groups"), py::arg("reference_sizes"), py::arg("groups"),
        py::arg("sizes"));
  x.def("crop_images", &crop_images, py::arg("images"), py::arg("boxes"), py::arg("side"),
        py::arg("threads") = 0, release);
  x.def("threshold_grid", &threshold_grid, py::arg("step"));
  py::class_<BoxAccuracy>(x, "BoxAccuracy")
      .def_readonly("iou", &BoxAccuracy::iou)
      .def_readonly("accuracy", &BoxAccuracy::accuracy)
      .def_readonly("group_rows", &BoxAccuracy::group_rows)
      .def_readonly("group_accuracy", &BoxAccuracy::group_accuracy)
      .def_readonly("best", &BoxAccuracy::best)
      .def_readonly("max_box_acc", &BoxAccuracy::max_box_acc)
      .def_readonly("group_max", &BoxAccuracy::group_max);
  x.def("box_accuracy", &box_accuracy, py::arg("boxes"), py::arg("truth"), py::arg("groups"),
        py::arg("num_groups"), py::arg("iou_threshold") = 0.5, release);
}

}  // namespace lookalike::python
