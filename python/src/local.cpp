// lookalike._core.local: local features, matching, geometric verification, re-ranking.
#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/local/feature_file.h"
#include "lookalike/local/features.h"
#include "lookalike/local/match.h"
#include "lookalike/local/rerank.h"
#include "lookalike/local/verify.h"
#include "options.h"

namespace lookalike::python {

void bind_local(py::module_& m) {
  using namespace lookalike::local;
  auto x = m.def_submodule("local", "local features, matching, verification, re-ranking");
  const auto release = py::call_guard<py::gil_scoped_release>();
  bind_options<MatchOptions>(x, "MatchOptions", "descriptor matching");
  bind_options<VerifyOptions>(x, "VerifyOptions", "geometric verification");
  bind_options<RerankOptions>(x, "RerankOptions", "re-ranking by verification");
  bind_options<LocalOptions>(x, "LocalOptions", "local feature extraction");

  py::class_<LocalFeatures>(x, "LocalFeatures")
      .def(py::init([](torch::Tensor keypoints, torch::Tensor descriptors, torch::Tensor strength,
                       int64_t width, int64_t height) {
             LocalFeatures f{keypoints, descriptors, strength, width, height};
             check_features(f, "LocalFeatures");
             return f;
           }),
           py::arg("keypoints"), py::arg("descriptors"), py::arg("strength"), py::arg("width"),
           py::arg("height"))
      .def_readonly("keypoints", &LocalFeatures::keypoints)
      .def_readonly("descriptors", &LocalFeatures::descriptors)
      .def_readonly("strength", &LocalFeatures::strength)
      .def_readonly("width", &LocalFeatures::width)
      .def_readonly("height", &LocalFeatures::height)
      .def_property_readonly("binary", &LocalFeatures::binary)
      .def("__len__", &LocalFeatures::size)
      .def("__repr__", [](const LocalFeatures& f) {
        return detail::concat("LocalFeatures(", f.size(), " keypoints, ",
                              f.binary() ? "binary " : "float ", f.descriptors.size(1), ", ",
                              f.width, "x", f.height, ")");
      });

  py::class_<Matches>(x, "Matches")
      .def_readonly("pairs", &Matches::pairs)
      .def_readonly("distances", &Matches::distances)
      .def("__len__", &Matches::size);
  py::class_<Verification>(x, "Verification")
      .def_readonly("matches", &Verification::matches)
      .def_readonly("inliers", &Verification::inliers)
      .def_readonly("transform", &Verification::transform)
      .def_readonly("inlier_mask", &Verification::inlier_mask);
  py::class_<Reranked>(x, "Reranked")
      .def_readonly("ids", &Reranked::ids)
      .def_readonly("scores", &Reranked::scores)
      .def_readonly("inliers", &Reranked::inliers)
      .def_readonly("matches", &Reranked::matches);

  py::class_<Verified>(x, "Verified")
      .def(py::init<torch::Tensor, torch::Tensor>(), py::arg("inliers"), py::arg("matches"))
      .def_readonly("inliers", &Verified::inliers)
      .def_readonly("matches", &Verified::matches);
  x.def("verify_top_k", &verify_top_k, py::arg("ids"), py::arg("queries"), py::arg("candidates"),
        py::arg("options") = RerankOptions(), release);
  x.def("reorder", &reorder, py::arg("ids"), py::arg("global_scores"), py::arg("verified"),
        py::arg("options") = RerankOptions(), release);
  x.def("extractors", &local_extractors, "the local feature methods, sorted");
  x.def("extract", &extract_local, py::arg("images"), py::arg("options") = LocalOptions(), release,
        "images uint8 [N, 3, H, W] RGB -> one LocalFeatures per image");
  x.def("match", &match_features, py::arg("a"), py::arg("b"), py::arg("options") = MatchOptions(),
        release);
  x.def("verify", &verify_pair, py::arg("a"), py::arg("b"), py::arg("options") = VerifyOptions(),
        release);
  x.def("verify_pairs", &verify_pairs, py::arg("queries"), py::arg("candidates"), py::arg("pairs"),
        py::arg("options") = VerifyOptions(), py::arg("threads") = 0, release,
        "pairs int64 [P, 2] -> int64 [P, 2]: (matches, inliers) of each pair");
  x.def("min_matches", &min_matches, py::arg("model"));
  x.def("rerank", &rerank, py::arg("ids"), py::arg("global_scores"), py::arg("queries"),
        py::arg("candidates"), py::arg("options") = RerankOptions(), release);
  x.def(
      "save_features",
      [](const std::string& path, const std::vector<LocalFeatures>& features,
         const py::object& meta) {
        auto j = meta.is_none() ? nlohmann::json::object() : to_json_value(meta, "meta");
        py::gil_scoped_release unlocked;
        save_local_features(path, features, j);
      },
      py::arg("path"), py::arg("features"), py::arg("meta") = py::none());
  x.def(
      "load_features",
      [](const std::string& path) {
        FeatureFile f;
        {
          py::gil_scoped_release unlocked;
          f = load_local_features(path);
        }
        return py::make_tuple(f.features, from_json_value(nlohmann::ordered_json(f.meta)));
      },
      py::arg("path"), "-> (features, meta)");
}

}  // namespace lookalike::python
