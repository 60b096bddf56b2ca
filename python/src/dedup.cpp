#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/dedup/bm25.h"
#include "lookalike/dedup/listings.h"
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
      .def(py::init<>())
      .def_readwrite("ids", &Listings::ids)
      .def_readwrite("titles", &Listings::titles)
      .def_readwrite("texts", &Listings::texts)
      .def_readwrite("groups", &Listings::groups)
      .def_readwrite("attr_names", &Listings::attr_names)
      .def_readwrite("attrs", &Listings::attrs)
      .def_readwrite("images", &Listings::images)
      .def_readwrite("phash", &Listings::phash)
      .def_readwrite("skipped", &Listings::skipped)
      .def_readwrite("repaired_utf8", &Listings::repaired_utf8)
      .def_readwrite("source", &Listings::source);
  x.def("read_listings", &read_listings, py::arg("options"), release);
  x.def("concat_listings", &concat_listings, py::arg("parts"), release);
  x.def("repair_utf8", [](py::bytes b) {
    std::string s = b;
    const bool changed = repair_utf8(s);
    return std::make_tuple(py::bytes(s), changed);
  });
  x.def("group_labels", &group_labels, py::arg("groups"), py::arg("n"));
  x.def("groups_from_pairs", &groups_from_pairs, py::arg("n"), py::arg("pairs"));
  x.def(
      "groups_from_pair_file",
      [](const Listings& l, const std::string& path, const std::string& col_a,
         const std::string& col_b, const std::string& prefix_a, const std::string& prefix_b) {
        int64_t missing = 0;
        auto g = groups_from_pair_file(l, path, col_a, col_b, prefix_a, prefix_b, missing);
        return std::make_tuple(g, missing);
      },
      py::arg("listings"), py::arg("path"), py::arg("col_a"), py::arg("col_b"),
      py::arg("prefix_a") = "", py::arg("prefix_b") = "", release);
  x.def(
      "with_relistings",
      [](const Listings& base, const RelistOptions& o) {
        auto [l, g] = with_relistings(base, o);
        return std::make_tuple(std::move(l), g);
      },
      py::arg("base"), py::arg("options"), release);
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
}

}  // namespace lookalike::python
