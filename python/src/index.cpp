#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/index/tag_rerank.h"
#include "lookalike/index/vector_index.h"
#include "options.h"

namespace lookalike::python {

void bind_index(py::module_& m) {
  auto x = m.def_submodule("index", "VectorIndex, update logs, threshold clustering, sweeps");
  using index::VectorIndex;
  const auto release = py::call_guard<py::gil_scoped_release>();
  bind_options<index::IndexOptions>(x, "IndexOptions", "a vector index");
  bind_options<index::SearchParams>(x, "SearchParams", "search-time parameters");
  bind_options<index::ClusterOptions>(x, "ClusterOptions", "threshold clustering");
  bind_options<index::TagRerankOptions>(x, "TagRerankOptions", "tag-aware search");
  x.def("tag_rerank", &index::tag_rerank, py::arg("candidates"), py::arg("similarities"),
        py::arg("tag_scores"), py::arg("thresholds"), py::arg("wanted"),
        py::arg("options") = index::TagRerankOptions(), py::call_guard<py::gil_scoped_release>(),
        "(ids [Q, k], scores [Q, k]): candidates filtered or re-ranked by the wanted tag's score");
  x.def("tag_share_at_k", &index::tag_share_at_k, py::arg("ids"), py::arg("targets"),
        py::arg("wanted"), py::call_guard<py::gil_scoped_release>());
  py::class_<index::UpdateLog>(x, "UpdateLog")
      .def(py::init<>())
      .def("add", &index::UpdateLog::add, py::arg("vectors"), py::arg("ids"), release)
      .def("remove", &index::UpdateLog::remove, py::arg("ids"), release)
      .def_property_readonly("num_added", &index::UpdateLog::num_added)
      .def_property_readonly("num_removed", &index::UpdateLog::num_removed)
      .def_property_readonly("num_ops", [](const index::UpdateLog& l) { return l.ops().size(); })
      .def("save", &index::UpdateLog::save, py::arg("path"), release)
      .def_static("load", &index::UpdateLog::load, py::arg("path"), release);

  py::class_<VectorIndex>(x, "VectorIndex")
      .def(py::init<int64_t, index::IndexOptions>(), py::arg("dim"),
           py::arg("options") = index::IndexOptions(), release)
      .def_property_readonly("dim", &VectorIndex::dim)
      .def_property_readonly("spec", [](const VectorIndex& v) { return v.options().spec; })
      .def_property_readonly("metric", [](const VectorIndex& v) { return v.options().metric; })
      .def_property_readonly("device", [](const VectorIndex& v) { return v.options().device; })
      .def_property_readonly("rebuild_fraction",
                             [](const VectorIndex& v) { return v.options().rebuild_fraction; })
      .def_property_readonly("backend", &VectorIndex::backend)
      .def_property_readonly("size", &VectorIndex::size)
      .def_property_readonly("dead", &VectorIndex::dead)
      .def_property_readonly("is_trained", &VectorIndex::is_trained)
      .def_property_readonly("removes_in_place", &VectorIndex::removes_in_place)
      .def("contains", &VectorIndex::contains)
      .def("ids", &VectorIndex::ids, release)
      .def("train", &VectorIndex::train, py::arg("x"), release)
      .def("add", &VectorIndex::add, py::arg("x"), py::arg("ids"), release)
      .def("remove", &VectorIndex::remove, py::arg("ids"), release)
      .def(
          "search",
          [](const VectorIndex& v, const torch::Tensor& q, int64_t k,
             const index::SearchParams& p) {
            auto r = v.search(q, k, p);
            return std::make_tuple(r.scores, r.indices);
          },
          py::arg("query"), py::arg("k"), py::arg("params") = index::SearchParams(), release)
      .def(
          "range_search",
          [](const VectorIndex& v, const torch::Tensor& q, float threshold,
             const index::SearchParams& p) {
            auto r = v.range_search(q, threshold, p);
            return std::make_tuple(r.lims, r.scores, r.ids);
          },
          py::arg("query"), py::arg("threshold"), py::arg("params") = index::SearchParams(),
          release)
      .def(
          "apply",
          [](VectorIndex& v, const index::UpdateLog& log) {
            auto r = v.apply(log);
            return std::make_tuple(r.added, r.removed, r.rebuilt);
          },
          py::arg("log"), release)
      .def("rebuild", &VectorIndex::rebuild, release)
      .def("save", &VectorIndex::save, py::arg("path"), release)
      .def_static("load", &VectorIndex::load, py::arg("path"), py::arg("device") = "cpu", release)
      .def("memory_bytes", &VectorIndex::memory_bytes, release);

  x.def(
      "threshold_clusters",
      [](const torch::Tensor& data, float threshold, const index::ClusterOptions& o) {
        auto r = index::threshold_clusters(data, threshold, o);
        return std::make_tuple(r.labels, r.representatives, r.sizes, r.num_edges,
                               r.reduction_ratio);
      },
      py::arg("x"), py::arg("threshold"), py::arg("options") = index::ClusterOptions(), release);
  x.def(
      "measure_search",
      [](const VectorIndex& v, const torch::Tensor& q, const torch::Tensor& gt, int64_t k,
         const index::SearchParams& params, int64_t latency_queries) {
        auto p = index::measure_search(v, q, gt, k, params, latency_queries);
        return std::map<std::string, double>{{"neighbour_recall", p.neighbour_recall},
                                             {"qps", p.qps},
                                             {"p50_ms", p.p50_ms},
                                             {"p90_ms", p.p90_ms},
                                             {"p99_ms", p.p99_ms}};
      },
      py::arg("index"), py::arg("query"), py::arg("ground_truth"), py::arg("k"), py::arg("params"),
      py::arg("latency_queries"), release);
}

}  // namespace lookalike::python
