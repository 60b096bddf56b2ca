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

TitleNoise title_noise(const py::dict& d) {
  TitleNoise t;
  for (auto [k, v] : d) {
    const auto key = k.cast<std::string>();
    const double x = v.cast<double>();
    if (key == "drop")
      t.drop = x;
    else if (key == "reorder")
      t.reorder = x;
    else if (key == "abbreviate")
      t.abbreviate = x;
    else if (key == "typo")
      t.typo = x;
    else if (key == "boilerplate")
      t.boilerplate = x;
    else if (key == "case_change")
      t.case_change = x;
    else
      throw InvalidArgument("unknown title noise option '" + key +
                            "'; known: drop, reorder, abbreviate, typo, boilerplate, case_change");
  }
  return t;
}
}  // namespace

void bind_dedup(py::module_& m) {
  auto x = m.def_submodule("dedup", "duplicate-product candidates");
  x.def("have_xapian", &have_xapian);
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
  x.def(
      "read_listings",
      [](const std::string& path, const std::string& id_col, const std::string& title_col,
         const std::string& group_col, const std::vector<std::string>& text_cols,
         const std::string& image_col, const std::string& image_pattern,
         const std::string& image_root, int image_size, const std::string& phash_col,
         const std::vector<std::string>& attr_cols, const std::string& id_prefix, int64_t limit,
         int threads) {
        ListingsOptions o{path,      id_col,        title_col,  group_col,  text_cols,
                          image_col, image_pattern, image_root, image_size, phash_col,
                          attr_cols, id_prefix,     limit,      threads};
        return read_listings(o);
      },
      py::arg("path"), py::arg("id_col"), py::arg("title_col"), py::arg("group_col"),
      py::arg("text_cols"), py::arg("image_col"), py::arg("image_pattern"), py::arg("image_root"),
      py::arg("image_size"), py::arg("phash_col"), py::arg("attr_cols"), py::arg("id_prefix"),
      py::arg("limit"), py::arg("threads"), release);
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
      [](const std::string& title, uint64_t seed, const py::dict& noise) {
        std::mt19937_64 rng(seed);
        return perturb_title(title, rng, title_noise(noise));
      },
      py::arg("title"), py::arg("seed"), py::arg("noise") = py::dict());
  x.def(
      "perturb_image",
      [](const torch::Tensor& image, uint64_t seed, const py::dict& noise) {
        PhotoNoise o;
        for (auto [k, v] : noise) {
          const auto key = k.cast<std::string>();
          if (key == "min_crop")
            o.min_crop = v.cast<double>();
          else if (key == "flip")
            o.flip = v.cast<double>();
          else if (key == "background")
            o.background = v.cast<double>();
          else if (key == "hue")
            o.hue = v.cast<int>();
          else if (key == "saturation")
            o.saturation = v.cast<double>();
          else if (key == "value")
            o.value = v.cast<double>();
          else if (key == "jpeg")
            o.jpeg = v.cast<double>();
          else if (key == "min_quality")
            o.min_quality = v.cast<int>();
          else if (key == "max_quality")
            o.max_quality = v.cast<int>();
          else
            throw InvalidArgument("unknown photo noise option '" + key +
                                  "'; known: min_crop, flip, background, hue, saturation, value, "
                                  "jpeg, min_quality, max_quality");
        }
        py::gil_scoped_release r;
        std::mt19937_64 rng(seed);
        return perturb_image(image, rng, o);
      },
      py::arg("image"), py::arg("seed"), py::arg("noise") = py::dict());
  x.def(
      "simulate_relistings",
      [](const std::vector<std::string>& titles, const torch::Tensor& images, int64_t originals,
         int min_copies, int max_copies, uint64_t seed, const py::dict& noise) {
        RelistOptions o;
        o.originals = originals, o.min_copies = min_copies, o.max_copies = max_copies,
        o.seed = seed;
        o.title = title_noise(noise);
        py::gil_scoped_release r;
        auto out = simulate_relistings(titles, images, o);
        return std::make_tuple(out.source, out.titles, out.images);
      },
      py::arg("titles"), py::arg("images"), py::arg("originals"), py::arg("min_copies"),
      py::arg("max_copies"), py::arg("seed"), py::arg("title_noise") = py::dict());

  py::class_<TextEncoder>(x, "TextEncoder")
      .def(py::init([](int64_t buckets, int min_n, int max_n, bool words, int64_t dim, int epochs,
                       int64_t batch_size, double lr, double temperature, bool self_supervised,
                       uint64_t seed, const std::string& device, const py::dict& noise) {
             TextEncoderOptions o;
             o.hash = HashOptions{buckets, min_n, max_n, words};
             o.dim = dim, o.epochs = epochs, o.batch_size = batch_size, o.lr = lr;
             o.temperature = temperature, o.self_supervised = self_supervised, o.seed = seed;
             o.device = device;
             o.noise = title_noise(noise);
             return TextEncoder(o);
           }),
           py::arg("buckets"), py::arg("min_n"), py::arg("max_n"), py::arg("words"), py::arg("dim"),
           py::arg("epochs"), py::arg("batch_size"), py::arg("lr"), py::arg("temperature"),
           py::arg("self_supervised"), py::arg("seed"), py::arg("device"),
           py::arg("noise") = py::dict())
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
      .def(py::init([](double l2, int max_iter, double tol, double threshold) {
             return Matcher(MatcherOptions{l2, max_iter, tol, threshold});
           }),
           py::arg("l2") = 1.0, py::arg("max_iter") = 100, py::arg("tol") = 1e-9,
           py::arg("threshold") = 0.5)
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
