#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/data/sampler.h"
#include "lookalike/metric/loss.h"
#include "lookalike/metric/miner.h"
#include "options.h"

namespace lookalike::python {

void bind_metric(py::module_& m) {
  using namespace lookalike::metric;
  auto t = m.def_submodule("metric", "metric-learning losses, miners and the balanced sampler");
  bind_options<MetricOptions>(t, "MetricOptions", "the loss, the miner and their parameters");
  t.def("losses", &metric_losses, "the registered metric-learning loss names, sorted");
  t.def("miners", &miners, "the registered miner names, sorted");
  t.def(
      "validate", [](const MetricOptions& o) { validate(o); }, py::arg("options"));

  py::class_<MetricLoss, std::shared_ptr<MetricLoss>>(t, "MetricLoss")
      .def(
          "__call__",
          [](MetricLoss& self, const torch::Tensor& embeddings, const torch::Tensor& labels,
             const py::object& mined) {
            Tuples tuples;
            if (!mined.is_none()) {
              auto d = mined.cast<py::dict>();
              auto get = [&](const char* k) {
                return d.contains(k) ? d[k].cast<torch::Tensor>() : torch::Tensor();
              };
              tuples = {get("anchor"), get("positive"), get("negative"), get("pos_pairs"),
                        get("neg_pairs")};
            }
            return self.forward(embeddings, labels, tuples);
          },
          py::arg("embeddings"), py::arg("labels"), py::arg("mined") = py::none(),
          "the loss (a torch scalar with its graph: backward() reaches the embeddings)")
      .def("named_parameters", [](MetricLoss& self) {
        py::dict d;
        for (const auto& p : self.named_parameters()) d[py::str(p.key())] = p.value();
        return d;
      });
  t.def("make_loss", &make_loss, py::arg("options"), py::arg("dim"), py::arg("classes"));
  t.def(
      "mine",
      [](const MetricOptions& o, const torch::Tensor& embeddings, const torch::Tensor& labels) {
        auto miner = make_miner(o);
        LOOKALIKE_CHECK_ARG(miner != nullptr, "mine: options.miner is 'none'");
        auto tuples = miner->mine(embeddings, labels);
        py::dict d;
        if (tuples.anchor.defined())
          d["anchor"] = tuples.anchor, d["positive"] = tuples.positive,
          d["negative"] = tuples.negative;
        if (tuples.pos_pairs.defined())
          d["pos_pairs"] = tuples.pos_pairs, d["neg_pairs"] = tuples.neg_pairs;
        return d;
      },
      py::arg("options"), py::arg("embeddings"), py::arg("labels"));
  t.def("class_balanced_order", &data::class_balanced_order, py::arg("labels"),
        py::arg("samples_per_class"), py::arg("batch_size"), py::arg("seed") = 0,
        py::call_guard<py::gil_scoped_release>());
}

}  // namespace lookalike::python
