#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/eval/retrieval.h"
#include "lookalike/index/knn.h"

namespace lookalike::python {

void bind_eval(py::module_& m) {
  auto e = m.def_submodule("eval", "retrieval metrics, exact kNN");
  e.def(
      "exact_knn",
      [](const torch::Tensor& q, const torch::Tensor& r, int64_t k, const std::string& metric,
         const std::string& backend, bool exclude_self, int64_t query_tile, int64_t reference_tile,
         int64_t topk_chunk) {
        index::KnnOptions o;
        o.reference_tile = reference_tile;
        o.topk_chunk = topk_chunk;
        o.metric = metric;
        o.backend = backend;
        o.exclude_self = exclude_self;
        o.query_tile = query_tile;
        auto res = index::exact_knn(q, r, k, o);
        // A std::tuple, converted after the GIL is taken back (py::make_tuple here would not be).
        return std::make_tuple(res.scores, res.indices);
      },
      py::arg("query"), py::arg("reference"), py::arg("k"), py::arg("metric") = "ip",
      py::arg("backend") = "auto", py::arg("exclude_self") = false, py::arg("query_tile") = 4096,
      py::arg("reference_tile") = 65536, py::arg("topk_chunk") = 0,
      py::call_guard<py::gil_scoped_release>());
  e.def(
      "fused_knn",
      [](const torch::Tensor& q, const torch::Tensor& r, int64_t k, const std::string& metric,
         bool exclude_self, int64_t block_queries, int64_t block_refs) {
        auto res = index::fused_knn(q, r, k, metric, exclude_self, block_queries, block_refs);
        return std::make_tuple(res.scores, res.indices);
      },
      py::arg("query"), py::arg("reference"), py::arg("k"), py::arg("metric") = "ip",
      py::arg("exclude_self") = false, py::arg("block_queries") = 0,
      py::arg("block_refs") = index::kFusedBlockRefs, py::call_guard<py::gil_scoped_release>());
  e.def("have_faiss", &index::have_faiss);
  e.def(
      "retrieval_metrics",
      [](const torch::Tensor& q, const torch::Tensor& ql, std::optional<torch::Tensor> r,
         std::optional<torch::Tensor> rl, std::vector<int64_t> ks, const std::string& metric,
         const std::string& backend, int64_t max_entries) {
        eval::RetrievalOptions o;
        o.ks = std::move(ks);
        o.metric = metric;
        o.backend = backend;
        o.max_entries = max_entries;
        return eval::retrieval_metrics(q, ql, r.value_or(torch::Tensor()),
                                       rl.value_or(torch::Tensor()), o);
      },
      py::arg("query"), py::arg("query_labels"), py::arg("reference") = py::none(),
      py::arg("reference_labels") = py::none(), py::arg("ks") = std::vector<int64_t>{1, 10},
      py::arg("metric") = "ip", py::arg("backend") = "auto", py::arg("max_entries") = 1 << 23,
      py::call_guard<py::gil_scoped_release>());
}

}  // namespace lookalike::python
