#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/dedup/candidates.h"
#include "lookalike/dedup/cluster_scores.h"
#include "lookalike/dedup/comparison.h"
#include "lookalike/dedup/ground_truth.h"
#include "lookalike/dedup/matcher.h"
#include "lookalike/dedup/pair_features.h"
#include "lookalike/dedup/pipeline.h"
#include "lookalike/index/drop_self.h"
#include "options.h"

namespace lookalike::python {

// The duplicate study's computation over candidates and pairs: candidate lists, ground truth,
// pipeline comparison, pair features, the matcher, cluster scores.
void bind_dedup_pairs(py::module_& m) {
  using namespace lookalike::dedup;
  auto x = m.attr("dedup").cast<py::module_>();
  const auto release = py::call_guard<py::gil_scoped_release>();
  bind_options<MatcherOptions>(x, "MatcherOptions", "the pair matcher");
  x.def("pipelines", &pipelines, "the candidate pipeline names, from the C++ registry");
  py::class_<CandidatePipeline>(x, "CandidatePipeline")
      .def("fit", &CandidatePipeline::fit, py::arg("items"), py::arg("groups"), py::arg("fit_rows"),
           release)
      .def(
          "candidates",
          [](const CandidatePipeline& p, int64_t n) {
            auto r = p.candidates(n);
            return std::make_tuple(r.first, r.second);
          },
          py::arg("n"), release)
      .def("embeddings",
           [](const CandidatePipeline& p) -> py::object {
             auto e = p.embeddings();
             if (!e.defined()) return py::none();
             return py::cast(e);
           })
      .def("info", [](const CandidatePipeline& p) { return from_json_value(p.info()); });
  x.def(
      "make_pipeline",
      [](const std::string& name, const py::dict& options) {
        return make_pipeline(name, to_json_value(options, name));
      },
      py::arg("name"), py::arg("options") = py::dict());
  x.def(
      "drop_self",
      [](const torch::Tensor& ids, const std::optional<torch::Tensor>& scores, int64_t n,
         int64_t first_row) {
        return index::drop_self(ids, scores.value_or(torch::Tensor()), n, first_row);
      },
      py::arg("ids"), py::arg("scores"), py::arg("n"), py::arg("first_row") = 0, release);
  x.def("candidate_pairs", &candidate_pairs, py::arg("rows"), py::arg("lists"), py::arg("n"),
        release);
  x.def(
      "group_sizes",
      [](const torch::Tensor& groups) {
        auto g = group_sizes(groups);
        return std::map<std::string, int64_t>{{"groups", g.groups},
                                              {"groups_with_duplicates", g.groups_with_duplicates},
                                              {"items_with_duplicates", g.items_with_duplicates},
                                              {"largest_group", g.largest_group}};
      },
      py::arg("groups"));
  x.def("pairs_in", &pairs_in, py::arg("query_rows"), py::arg("ids"), py::arg("pairs"), release);
  x.def("pair_labels", &pair_labels, py::arg("pairs"), py::arg("groups"), release);
  x.def("split_groups", &split_groups, py::arg("groups"), py::arg("fraction"), py::arg("seed"),
        release);
  x.def("query_rows", &query_rows, py::arg("groups"), py::arg("rows"), py::arg("count"),
        py::arg("seed"), release);
  x.def("hamming_candidates", &hamming_candidates, py::arg("codes"), py::arg("n"), release);
  x.def("same_group", &same_group, py::arg("query_rows"), py::arg("ids"), py::arg("groups"),
        release);
  x.def("true_pairs", &true_pairs, py::arg("query_rows"), py::arg("groups"), release);
  py::class_<PipelineComparison>(x, "PipelineComparison")
      .def_readonly("ns", &PipelineComparison::ns)
      .def_readonly("found", &PipelineComparison::found)
      .def_readonly("union_found", &PipelineComparison::union_found)
      .def_readonly("overlap", &PipelineComparison::overlap)
      .def_readonly("venn", &PipelineComparison::venn)
      .def_readonly("only", &PipelineComparison::only);
  x.def(
      "summarise",
      [](const PipelineComparison& c, const std::vector<std::string>& names, int64_t true_pairs,
         const std::string& baseline) {
        return from_json_value(summarise(c, names, true_pairs, baseline));
      },
      py::arg("comparison"), py::arg("names"), py::arg("true_pairs"), py::arg("baseline"));
  x.def("compare_pipelines", &compare_pipelines, py::arg("candidates"), py::arg("positive"),
        py::arg("query_rows"), py::arg("ns"), release);
  x.def("lookup_scores", &lookup_scores, py::arg("pairs"), py::arg("ids"), py::arg("scores"),
        py::arg("fill"), release);
  x.def(
      "pair_features",
      [](const torch::Tensor& pairs, const std::vector<std::string>& embedding_names,
         const std::vector<torch::Tensor>& embeddings, const std::optional<torch::Tensor>& phash,
         const std::vector<std::string>& titles, const std::vector<std::string>& attr_names,
         const std::vector<std::vector<std::string>>& attrs, const std::vector<bool>& numeric) {
        PairFeatureInputs in{embedding_names, embeddings, phash.value_or(torch::Tensor()),
                             titles,          attr_names, attrs,
                             numeric};
        py::gil_scoped_release r;
        return pair_features(pairs, in);
      },
      py::arg("pairs"), py::arg("embedding_names"), py::arg("embeddings"), py::arg("phash"),
      py::arg("titles"), py::arg("attr_names"), py::arg("attrs"), py::arg("numeric"));
  py::class_<ClusterScores>(x, "ClusterScores")
      .def_readonly("mean_f1", &ClusterScores::mean_f1)
      .def_readonly("pair_precision", &ClusterScores::pair_precision)
      .def_readonly("pair_recall", &ClusterScores::pair_recall)
      .def_readonly("pair_f1", &ClusterScores::pair_f1);
  x.def(
      "cluster_scores",
      [](const torch::Tensor& pred, const torch::Tensor& groups,
         const std::optional<torch::Tensor>& rows) {
        return cluster_scores(pred, groups, rows.value_or(torch::Tensor()));
      },
      py::arg("pred"), py::arg("groups"), py::arg("rows") = py::none(), release);

  py::class_<Matcher>(x, "Matcher")
      .def(py::init<MatcherOptions>(), py::arg("options") = MatcherOptions())
      .def_static(
          "from_parameters",
          [](const torch::Tensor& coef, double intercept, const torch::Tensor& mean,
             const torch::Tensor& scale, double threshold) {
            MatcherOptions o;
            o.threshold = threshold;
            return Matcher::from_parameters(coef, intercept, mean, scale, o);
          },
          py::arg("coef"), py::arg("intercept"), py::arg("mean"), py::arg("scale"),
          py::arg("threshold"))
      .def("fit", &Matcher::fit, py::arg("x"), py::arg("y"), release)
      .def("predict_proba", &Matcher::predict_proba, py::arg("x"), release)
      .def("predict", &Matcher::predict, py::arg("x"), release)
      .def_property("threshold", &Matcher::threshold, &Matcher::set_threshold)
      .def_property_readonly("fitted", &Matcher::fitted)
      .def_property_readonly("coef", &Matcher::coef)
      .def_property_readonly("intercept", &Matcher::intercept)
      .def_property_readonly("mean", &Matcher::mean)
      .def_property_readonly("scale", &Matcher::scale)
      .def_property_readonly("iterations", &Matcher::iterations);
  x.def("save_matcher", &save_matcher, py::arg("matcher"), py::arg("features"), py::arg("path"),
        release);
  x.def(
      "load_matcher",
      [](const std::string& path) {
        auto [m, names] = load_matcher(path);
        return std::make_tuple(std::move(m), names);
      },
      py::arg("path"));
  x.def(
      "best_f1_threshold",
      [](const torch::Tensor& scores, const torch::Tensor& labels) {
        auto c = best_f1_threshold(scores, labels);
        return py::dict(py::arg("threshold") = c.threshold, py::arg("precision") = c.precision,
                        py::arg("recall") = c.recall, py::arg("f1") = c.f1);
      },
      py::arg("scores"), py::arg("labels"));
}

}  // namespace lookalike::python
