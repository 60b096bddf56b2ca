#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/dedup/bm25.h"
#include "lookalike/dedup/listings.h"
#include "lookalike/dedup/matcher.h"
#include "lookalike/dedup/recall.h"
#include "lookalike/dedup/relist.h"
#include "lookalike/dedup/text.h"
#include "lookalike/error.h"
#include "options.h"

namespace lookalike::python {

namespace {
using namespace lookalike::dedup;
constexpr auto release = py::call_guard<py::gil_scoped_release>();

}  // namespace

void bind_dedup(py::module_& m) {
  auto x = m.def_submodule("dedup", "duplicate-product candidates");
  x.def("have_xapian", &have_xapian);

  bind_options<TitleNoise>(x, "TitleNoise", "a seller's re-typed title");
  bind_options<PhotoNoise>(x, "PhotoNoise", "a re-shot photo");
  bind_options<RelistOptions>(x, "RelistOptions", "simulated re-listings");
  bind_options<HashOptions>(x, "HashOptions", "hashed word and character n-gram features");
  auto text_options =
      bind_options<TextEncoderOptions>(x, "TextEncoderOptions", "the title encoder");
  bind_flat_options(text_options);
  bind_options<ListingsOptions>(x, "ListingsOptions", "the listings reader");
  bind_options<MatcherOptions>(x, "MatcherOptions", "the pair matcher");
  bind_options<Bm25Options>(x, "Bm25Options", "BM25 (Xapian)");
  py::class_<Bm25Index>(x, "Bm25Index")
      .def(py::init<const std::vector<std::string>&, Bm25Options>(), py::arg("documents"),
           py::arg("options") = Bm25Options(), release)
      .def_property_readonly("size", &Bm25Index::size)
      .def(
          "search",
          [](const Bm25Index& self, const std::vector<std::string>& queries, int64_t n,
             bool exclude_self) {
            auto r = self.search(queries, n, exclude_self);
            return std::make_tuple(r.first, r.second);
          },
          py::arg("queries"), py::arg("n"), py::arg("exclude_self") = false, release);

  py::class_<Listings>(x, "Listings")
      .def_readonly("ids", &Listings::ids)
      .def_readonly("titles", &Listings::titles)
      .def_readonly("texts", &Listings::texts)
      .def_readonly("groups", &Listings::groups)
      .def_readonly("attr_names", &Listings::attr_names)
      .def_readonly("attrs", &Listings::attrs)
      .def_readonly("images", &Listings::images)
      .def_readonly("phash", &Listings::phash)
      .def_readonly("skipped", &Listings::skipped)
      .def_readonly("repaired_utf8", &Listings::repaired_utf8)
      .def_readonly("source", &Listings::source);
  x.def("read_listings", &read_listings, py::arg("options"), release);
  x.def("concat_listings", &concat_listings, py::arg("parts"), release);
  x.def("repair_utf8", [](py::bytes b) {
    std::string s = b;
    const bool changed = repair_utf8(s);
    return std::make_tuple(py::bytes(s), changed);
  });
  x.def("group_labels", &group_labels, py::arg("groups"), py::arg("n"));
  x.def("groups_from_pairs", &groups_from_pairs, py::arg("n"), py::arg("pairs"));
  x.def("parse_phash", &parse_phash, py::arg("hex"), py::arg("source") = "phash");

  x.def("tokenize", &tokenize, py::arg("text"));
  x.def(
      "hash_features",
      [](const std::string& text, int64_t buckets, int min_n, int max_n, bool words) {
        return hash_features(text, HashOptions{buckets, min_n, max_n, words});
      },
      py::arg("text"), py::arg("buckets"), py::arg("min_n"), py::arg("max_n"), py::arg("words"));
  x.def(
      "perturb_title",
      [](const std::string& title, uint64_t seed, const TitleNoise& noise) {
        std::mt19937_64 rng(seed);
        return perturb_title(title, rng, noise);
      },
      py::arg("title"), py::arg("seed"), py::arg("noise") = TitleNoise());
  x.def(
      "perturb_image",
      [](const torch::Tensor& image, uint64_t seed, const PhotoNoise& noise) {
        std::mt19937_64 rng(seed);
        return perturb_image(image, rng, noise);
      },
      py::arg("image"), py::arg("seed"), py::arg("noise") = PhotoNoise(), release);
  x.def(
      "simulate_relistings",
      [](const std::vector<std::string>& titles, const torch::Tensor& images,
         const RelistOptions& options) {
        auto out = simulate_relistings(titles, images, options);
        return std::make_tuple(out.source, out.titles, out.images);
      },
      py::arg("titles"), py::arg("images"), py::arg("options"), release);

  py::class_<TextEncoder>(x, "TextEncoder")
      .def(py::init<TextEncoderOptions>(), py::arg("options"))
      .def("fit", &TextEncoder::fit, py::arg("texts"), py::arg("groups"), py::arg("train_rows"),
           release)
      .def("encode", &TextEncoder::encode, py::arg("texts"), release)
      .def("save", &TextEncoder::save, py::arg("path"), release)
      .def_static("load", &TextEncoder::load, py::arg("path"), release);

  x.def("drop_self", &drop_self, py::arg("ids"), py::arg("scores"), py::arg("n"), release);
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
