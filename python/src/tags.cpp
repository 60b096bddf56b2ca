// lookalike._core.train (tags): multi-label training on a tag set (the Trainer's tag heads), the
// multi-label losses by name, and the tagger (network + tags + thresholds) file.
#include <optional>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/train/multilabel_loss.h"
#include "lookalike/train/tag_heads.h"
#include "lookalike/train/tag_probe.h"
#include "lookalike/train/tagger.h"
#include "lookalike/train/trainer.h"
#include "options.h"

namespace lookalike::python {

void bind_tags(py::module_& m) {
  using namespace lookalike::train;
  const auto release = py::call_guard<py::gil_scoped_release>();
  auto t = m.attr("train").cast<py::module_>();
  bind_options<MultiLabelLossOptions>(t, "MultiLabelLossOptions",
                                      "a multi-label loss by name and its parameters");
  t.def("multilabel_losses", &multilabel_losses, "the multi-label losses by name, sorted");
  bind_options<TagHeadOptions>(t, "TagHeadOptions", "tag heads: loss, positive weights, families");
  t.def("tag_family", &tag_family, py::arg("tag"));
  t.def(
      "tag_families",
      [](const std::vector<std::string>& tags, const std::vector<std::string>& exclusive) {
        py::list out;
        for (const auto& f : tag_families(tags, exclusive)) {
          py::dict d;
          d["name"] = f.name, d["columns"] = f.columns, d["exclusive"] = f.exclusive;
          out.append(d);
        }
        return out;
      },
      py::arg("tags"), py::arg("exclusive") = std::vector<std::string>{});
  t.def(
      "tag_known",
      [](const std::vector<std::string>& tags, const std::vector<std::string>& exclusive,
         const torch::Tensor& targets) {
        TagHeadOptions o;
        o.exclusive = exclusive;
        return TagHeads(tags, o, targets).known(targets);
      },
      py::arg("tags"), py::arg("exclusive"), py::arg("targets"), release,
      "bool [N, T]: the targets that are known (exclusive families: photos labelled in them)");
  t.def(
      "tag_heads_info",
      [](const std::vector<std::string>& tags, const TagHeadOptions& o,
         const torch::Tensor& targets) {
        TagHeads heads(tags, o, targets);
        return py::make_tuple(heads.weights(), heads.tags_without_positives());
      },
      py::arg("tags"), py::arg("options"), py::arg("targets"),
      "(per-tag weights float [T], tags without a positive) the heads derive from targets");
  t.def(
      "fit_tags",
      [](const torch::Tensor& images, const torch::Tensor& targets,
         const std::vector<std::string>& tags, std::optional<torch::Tensor> val_images,
         std::optional<torch::Tensor> val_targets, const TrainOptions& options,
         std::function<bool(const util::Record&)> on_epoch) {
        data::Dataset train, val;
        train.images = images, train.targets = targets, train.tags = tags;
        if (val_images) val.images = *val_images, val.targets = *val_targets, val.tags = tags;
        return fit_releasing_gil(options, train, val, on_epoch);
      },
      py::arg("images"), py::arg("targets"), py::arg("tags"), py::arg("val_images") = py::none(),
      py::arg("val_targets") = py::none(), py::arg("options") = TrainOptions(),
      py::arg("on_epoch") = nullptr);
  t.def(
      "evaluate_tags",
      [](models::Net& net, const torch::Tensor& images, const torch::Tensor& targets,
         const std::vector<std::string>& tags, const TagHeadOptions& o, int64_t batch_size,
         const std::string& device) {
        data::Dataset set;
        set.images = images, set.targets = targets, set.tags = tags;
        return evaluate(net, set, batch_size, device, o);
      },
      py::arg("net"), py::arg("images"), py::arg("targets"), py::arg("tags"),
      py::arg("options") = TagHeadOptions(), py::arg("batch_size") = 256, py::arg("device") = "cpu",
      release);

  py::class_<Tagger>(t, "Tagger", "a network with one output per tag, its tags and thresholds")
      .def(py::init([](models::Net net, std::vector<std::string> tags,
                       std::vector<std::string> exclusive) {
             Tagger tagger{net, std::move(tags), std::move(exclusive), {}, {}};
             check_tagger(tagger);
             return tagger;
           }),
           py::arg("net"), py::arg("tags"), py::arg("exclusive") = std::vector<std::string>{})
      .def_readonly("net", &Tagger::net)
      .def_readonly("tags", &Tagger::tags)
      .def_readonly("exclusive", &Tagger::exclusive)
      .def_property_readonly("thresholds",
                             [](const Tagger& t) -> std::optional<torch::Tensor> {
                               if (!t.thresholds.defined()) return std::nullopt;
                               return t.thresholds;
                             })
      .def_readonly("threshold_options", &Tagger::threshold_options)
      .def("scores", &tag_scores, py::arg("images"), py::arg("batch_size") = 256,
           py::arg("device") = "cpu", release)
      .def(
          "fit_thresholds",
          [](Tagger& t, const torch::Tensor& scores, const torch::Tensor& targets,
             const eval::ThresholdOptions& o) {
            auto c = fit_thresholds(t, scores, targets, o);
            return std::map<std::string, torch::Tensor>{{"threshold", c.threshold},
                                                        {"f1", c.f1},
                                                        {"precision", c.precision},
                                                        {"recall", c.recall},
                                                        {"fallback", c.fallback}};
          },
          py::arg("scores"), py::arg("targets"), py::arg("options") = eval::ThresholdOptions(),
          release)
      .def("predict", &predict_tags, py::arg("scores"), release)
      .def("save", &save_tagger, py::arg("path"), release);
  t.def("load_tagger", &load_tagger, py::arg("path"), release);

  py::class_<TagProbe>(t, "TagProbe", "a linear tag classifier on fixed (standardised) features")
      .def_readonly("weight", &TagProbe::weight)
      .def_readonly("bias", &TagProbe::bias)
      .def_readonly("mean", &TagProbe::mean)
      .def_readonly("std", &TagProbe::std)
      .def("scores", &TagProbe::scores, py::arg("features"), release);
  t.def(
      "fit_tag_probe",
      [](const torch::Tensor& features, const torch::Tensor& targets,
         const std::vector<std::string>& tags, const TagHeadOptions& heads,
         const ProbeOptions& options) {
        util::Record record;
        TagProbe probe;
        {
          py::gil_scoped_release release;
          probe = fit_tag_probe(features, targets, tags, heads, options, &record);
        }
        return py::make_tuple(probe, record);
      },
      py::arg("features"), py::arg("targets"), py::arg("tags"), py::arg("heads"),
      py::arg("options"));
}

}  // namespace lookalike::python
