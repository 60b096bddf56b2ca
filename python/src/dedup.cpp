#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/dedup/bm25.h"
#include "lookalike/dedup/listings.h"
#include "lookalike/dedup/matcher.h"
#include "lookalike/dedup/recall.h"
#include "lookalike/dedup/relist.h"
#include "lookalike/dedup/text.h"
#include "lookalike/error.h"

namespace lookalike::python {

namespace {
using namespace lookalike::dedup;
constexpr auto release = py::call_guard<py::gil_scoped_release>();

}  // namespace

void bind_dedup(py::module_& m) {
  auto x = m.def_submodule("dedup", "duplicate-product candidates");
  x.def("have_xapian", &have_xapian);

  // Option structs, set field by field from Python (lookalike.dedup checks the names).
  py::class_<TitleNoise>(x, "TitleNoise")
      .def(py::init<>())
      .def_readwrite("drop", &TitleNoise::drop)
      .def_readwrite("reorder", &TitleNoise::reorder)
      .def_readwrite("abbreviate", &TitleNoise::abbreviate)
      .def_readwrite("typo", &TitleNoise::typo)
      .def_readwrite("boilerplate", &TitleNoise::boilerplate)
      .def_readwrite("case_change", &TitleNoise::case_change);
  py::class_<PhotoNoise>(x, "PhotoNoise")
      .def(py::init<>())
      .def_readwrite("min_crop", &PhotoNoise::min_crop)
      .def_readwrite("flip", &PhotoNoise::flip)
      .def_readwrite("background", &PhotoNoise::background)
      .def_readwrite("hue", &PhotoNoise::hue)
      .def_readwrite("saturation", &PhotoNoise::saturation)
      .def_readwrite("value", &PhotoNoise::value)
      .def_readwrite("jpeg", &PhotoNoise::jpeg)
      .def_readwrite("min_quality", &PhotoNoise::min_quality)
      .def_readwrite("max_quality", &PhotoNoise::max_quality);
  py::class_<RelistOptions>(x, "RelistOptions")
      .def(py::init<>())
      .def_readwrite("originals", &RelistOptions::originals)
      .def_readwrite("min_copies", &RelistOptions::min_copies)
      .def_readwrite("max_copies", &RelistOptions::max_copies)
      .def_readwrite("title", &RelistOptions::title)
      .def_readwrite("photo", &RelistOptions::photo)
      .def_readwrite("seed", &RelistOptions::seed);
  py::class_<HashOptions>(x, "HashOptions")
      .def(py::init<>())
      .def_readwrite("buckets", &HashOptions::buckets)
      .def_readwrite("min_n", &HashOptions::min_n)
      .def_readwrite("max_n", &HashOptions::max_n)
      .def_readwrite("words", &HashOptions::words);
  py::class_<TextEncoderOptions>(x, "TextEncoderOptions")
      .def(py::init<>())
      .def_readwrite("hash", &TextEncoderOptions::hash)
      .def_readwrite("dim", &TextEncoderOptions::dim)
      .def_readwrite("epochs", &TextEncoderOptions::epochs)
      .def_readwrite("batch_size", &TextEncoderOptions::batch_size)
      .def_readwrite("lr", &TextEncoderOptions::lr)
      .def_readwrite("temperature", &TextEncoderOptions::temperature)
      .def_readwrite("self_supervised", &TextEncoderOptions::self_supervised)
      .def_readwrite("noise", &TextEncoderOptions::noise)
      .def_readwrite("seed", &TextEncoderOptions::seed)
      .def_readwrite("device", &TextEncoderOptions::device);
  py::class_<ListingsOptions>(x, "ListingsOptions")
      .def(py::init<>())
      .def_readwrite("path", &ListingsOptions::path)
      .def_readwrite("id_col", &ListingsOptions::id_col)
      .def_readwrite("title_col", &ListingsOptions::title_col)
      .def_readwrite("group_col", &ListingsOptions::group_col)
      .def_readwrite("text_cols", &ListingsOptions::text_cols)
      .def_readwrite("image_col", &ListingsOptions::image_col)
      .def_readwrite("image_pattern", &ListingsOptions::image_pattern)
      .def_readwrite("image_root", &ListingsOptions::image_root)
      .def_readwrite("image_size", &ListingsOptions::image_size)
      .def_readwrite("phash_col", &ListingsOptions::phash_col)
      .def_readwrite("attr_cols", &ListingsOptions::attr_cols)
      .def_readwrite("id_prefix", &ListingsOptions::id_prefix)
      .def_readwrite("limit", &ListingsOptions::limit)
      .def_readwrite("threads", &ListingsOptions::threads);
  py::class_<MatcherOptions>(x, "MatcherOptions")
      .def(py::init<>())
      .def_readwrite("l2", &MatcherOptions::l2)
      .def_readwrite("max_iter", &MatcherOptions::max_iter)
      .def_readwrite("tol", &MatcherOptions::tol)
      .def_readwrite("threshold", &MatcherOptions::threshold);
  py::class_<Bm25Index>(x, "Bm25Index")
      .def(py::init([](const std::vector<std::string>& docs, double k1, double b,
                       const std::string& language) {
             Bm25Options o;
             o.k1 = k1;
             o.b = b;
             o.language = language;
             return Bm25Index(docs, o);
           }),
           py::arg("documents"), py::arg("k1") = 1.2, py::arg("b") = 0.75,
           py::arg("language") = "english", release)
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
