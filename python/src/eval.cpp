#include <pybind11/stl.h>

#include <optional>

#include "bindings.h"
#include "lookalike/eval/accuracy.h"
#include "lookalike/eval/average_precision.h"
#include "lookalike/eval/learning_curve.h"
#include "lookalike/eval/metric.h"
#include "lookalike/eval/multilabel.h"
#include "lookalike/eval/prf.h"
#include "lookalike/eval/retrieval.h"
#include "lookalike/eval/thresholds.h"
#include "lookalike/index/knn.h"
#include "options.h"

namespace lookalike::python {

void bind_eval(py::module_& m) {
  auto e = m.def_submodule("eval", "retrieval metrics, exact kNN");
  bind_options<index::KnnOptions>(e, "KnnOptions", "exact kNN: metric, backend, tiles");
  bind_options<eval::RetrievalOptions>(e, "RetrievalOptions", "retrieval metrics");
  e.def(
      "exact_knn",
      [](const torch::Tensor& q, const torch::Tensor& r, int64_t k, const index::KnnOptions& o) {
        auto res = index::exact_knn(q, r, k, o);
        // A std::tuple, converted after the GIL is taken back (py::make_tuple here would not be).
        return std::make_tuple(res.scores, res.indices);
      },
      py::arg("query"), py::arg("reference"), py::arg("k"),
      py::arg("options") = index::KnnOptions(), py::call_guard<py::gil_scoped_release>());
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
  e.def("accuracy", &eval::accuracy, py::arg("scores"), py::arg("labels"),
        "share of rows whose argmax is the label", py::call_guard<py::gil_scoped_release>());
  e.def("average_precision", &eval::average_precision, py::arg("scores"), py::arg("targets"),
        "AP of scores [N] against 0/1 targets [N] (scikit-learn's average_precision_score); NaN "
        "without a positive");
  using OptTensor = std::optional<torch::Tensor>;
  e.def(
      "average_precision_per_column",
      [](const torch::Tensor& s, const torch::Tensor& t, OptTensor known) {
        return eval::average_precision_per_column(s, t, known.value_or(torch::Tensor()));
      },
      py::arg("scores"), py::arg("targets"), py::arg("known") = py::none(),
      "per-column AP of scores [N, K] against targets [N, K] (known bool [N, K]: the entries "
      "counted): float [K]");
  e.def(
      "mean_average_precision",
      [](const torch::Tensor& s, const torch::Tensor& t, OptTensor known) {
        return eval::mean_average_precision(s, t, known.value_or(torch::Tensor()));
      },
      py::arg("scores"), py::arg("targets"), py::arg("known") = py::none(),
      "{macro, micro, columns} mAP of scores [N, K] against targets");
  e.def("f1_per_column", &eval::f1_per_column, py::arg("predictions"), py::arg("targets"));
  e.def("f1_scores", &eval::f1_scores, py::arg("predictions"), py::arg("targets"));
  e.def("precision_at_k", &eval::precision_at_k, py::arg("scores"), py::arg("targets"),
        py::arg("k"));
  e.def("coverage_error", &eval::coverage_error, py::arg("scores"), py::arg("targets"));
  e.def("apply_thresholds", &eval::apply_thresholds, py::arg("scores"), py::arg("thresholds"));
  bind_options<eval::ThresholdOptions>(e, "ThresholdOptions");
  e.def(
      "precision_recall_curve",
      [](const torch::Tensor& scores, const torch::Tensor& targets) {
        auto c = eval::precision_recall_curve(scores, targets);
        return py::make_tuple(c.precision, c.recall, c.threshold);
      },
      py::arg("scores"), py::arg("targets"));
  e.def("group_mean", &eval::group_mean, py::arg("values"), py::arg("groups"), py::arg("g"));
  e.def(
      "summarise_curves",
      [](const torch::Tensor& positives, const torch::Tensor& ap, const torch::Tensor& groups,
         int64_t g, double target) {
        auto c = eval::summarise_curves(positives, ap, groups, g, target);
        return std::map<std::string, torch::Tensor>{{"group_ap", c.group_ap},
                                                    {"group_positives", c.group_positives},
                                                    {"tag_needed", c.tag_needed},
                                                    {"group_needed", c.group_needed},
                                                    {"group_reached", c.group_reached}};
      },
      py::arg("positives"), py::arg("ap"), py::arg("groups"), py::arg("g"), py::arg("target"));
  e.def(
      "choose_thresholds",
      [](const torch::Tensor& scores, const torch::Tensor& targets,
         const eval::ThresholdOptions& options) {
        auto t = eval::choose_thresholds(scores, targets, options);
        return std::map<std::string, torch::Tensor>{{"threshold", t.threshold},
                                                    {"f1", t.f1},
                                                    {"precision", t.precision},
                                                    {"recall", t.recall},
                                                    {"fallback", t.fallback}};
      },
      py::arg("scores"), py::arg("targets"), py::arg("options") = eval::ThresholdOptions());
  e.def("metrics", &eval::metrics, "the retrieval metrics by name (registered in C++)");
  e.def(
      "prf",
      [](const torch::Tensor& predicted, const torch::Tensor& actual, double zero_division) {
        auto r = eval::prf(predicted, actual, zero_division);
        return py::dict(py::arg("precision") = r.precision, py::arg("recall") = r.recall,
                        py::arg("f1") = r.f1, py::arg("true_positives") = r.true_positives,
                        py::arg("predicted") = r.predicted, py::arg("actual") = r.actual);
      },
      py::arg("predicted"), py::arg("actual"), py::arg("zero_division") = 0.0,
      "precision, recall and F1 of bool masks (scikit-learn's definitions)");
  e.def(
      "retrieval_metrics",
      [](const torch::Tensor& q, const torch::Tensor& ql, std::optional<torch::Tensor> r,
         std::optional<torch::Tensor> rl, const eval::RetrievalOptions& o) {
        return eval::retrieval_metrics(q, ql, r.value_or(torch::Tensor()),
                                       rl.value_or(torch::Tensor()), o);
      },
      py::arg("query"), py::arg("query_labels"), py::arg("reference") = py::none(),
      py::arg("reference_labels") = py::none(), py::arg("options") = eval::RetrievalOptions(),
      py::call_guard<py::gil_scoped_release>());
  e.def("ranked_metrics", &eval::ranked_metrics, py::arg("ids"), py::arg("query_labels"),
        py::arg("reference_labels"), py::arg("options") = eval::RetrievalOptions(),
        py::call_guard<py::gil_scoped_release>(),
        "retrieval metrics of given ranked lists ids int64 [nq, K] (-1: none)");
}

}  // namespace lookalike::python
