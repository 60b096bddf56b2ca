#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/data/catalog.h"
#include "lookalike/data/csv.h"
#include "lookalike/data/data_dir.h"
#include "lookalike/data/idx.h"
#include "lookalike/data/image_io.h"
#include "lookalike/data/image_set.h"
#include "lookalike/data/labels.h"
#include "lookalike/data/split.h"
#include "lookalike/data/tag_set.h"
#include "options.h"

namespace lookalike::python {

void bind_data(py::module_& m) {
  using namespace lookalike::data;
  auto d = m.def_submodule("data", "datasets, catalogues, splits");
  d.def("read_idx", &read_idx, py::arg("path"), py::call_guard<py::gil_scoped_release>());
  d.def("default_fashion_mnist_root", &default_fashion_mnist_root);
  d.def(
      "fashion_mnist",
      [](const std::string& split, const std::string& root) {
        Dataset ds = fashion_mnist(split, root);
        return std::make_tuple(ds.images, ds.labels);
      },
      py::arg("split") = "train", py::arg("root") = "", py::call_guard<py::gil_scoped_release>());
  d.def(
      "read_image", [](const std::string& path, int size) { return read_image(path, size); },
      py::arg("path"), py::arg("size"), py::call_guard<py::gil_scoped_release>());
  d.def(
      "decode_images",
      [](const std::vector<std::string>& paths, int size, int threads,
         const std::string& bad_image) {
        data::DecodedImages out;
        {
          py::gil_scoped_release release;
          out = decode_images(paths, size, threads, bad_image);
        }
        return py::make_tuple(out.images, out.kept);
      },
      py::arg("paths"), py::arg("size"), py::arg("threads") = 0, py::arg("bad_image") = "error",
      "images decoded in parallel (OpenCV) to uint8 [K, 3, size, size] and the K kept indices");
  d.def("default_catalog_root", &default_catalog_root);
  d.def("shared_data_dir", &shared_data_dir, py::arg("name"),
        py::arg("starts") = std::vector<std::string>{});

  bind_options<LabelOptions>(d, "LabelOptions", "the label encoder");
  d.def(
      "encode_labels",
      [](const std::vector<std::string>& values, const LabelOptions& o) {
        auto r = encode_labels(values, o);
        return std::make_tuple(r.codes, r.names);
      },
      py::arg("values"), py::arg("options") = LabelOptions(),
      "(codes int64 [n], names): the one label encoder (data/labels.h)");
  bind_options<CatalogOptions>(d, "CatalogOptions", "the product catalogue reader");
  py::class_<Catalog>(d, "Catalog")
      .def_readonly("ids", &Catalog::ids)
      .def_readonly("names", &Catalog::names)
      .def_readonly("columns", &Catalog::columns)
      .def_readonly("images", &Catalog::images)
      .def_readonly("image_paths", &Catalog::image_paths)
      .def_readonly("skipped", &Catalog::skipped);
  d.def("read_catalog", &read_catalog, py::arg("options"),
        py::call_guard<py::gil_scoped_release>());

  d.def(
      "read_csv",
      [](const std::string& path) {
        CsvTable t = read_csv(path);
        return std::make_tuple(t.header, t.rows);
      },
      py::arg("path"), py::call_guard<py::gil_scoped_release>());
  d.def(
      "random_split",
      [](int64_t n, double fraction, uint64_t seed, std::optional<torch::Tensor> labels) {
        Split s = random_split(n, fraction, seed, labels.value_or(torch::Tensor()));
        return py::make_tuple(s.first, s.second);
      },
      py::arg("n"), py::arg("fraction"), py::arg("seed"), py::arg("labels") = py::none());
  d.def(
      "class_split",
      [](const torch::Tensor& labels, double fraction, uint64_t seed) {
        ClassSplit s = class_split(labels, fraction, seed);
        return py::make_tuple(s.items.first, s.items.second, s.first_labels, s.second_labels,
                              s.first_classes, s.second_classes);
      },
      py::arg("labels"), py::arg("fraction"), py::arg("seed"),
      "(first items, second items, first labels, second labels, first classes, second classes): "
      "data::class_split");

  d.def("select_classes", &select_classes, py::arg("labels"), py::arg("classes"),
        "(indices, renumbered labels) of the items whose class is listed: data::select_classes");

  bind_options<ImageSetOptions>(d, "ImageSetOptions", "the labelled image-set reader");
  py::class_<ImageSet>(d, "ImageSet")
      .def_readonly("images", &ImageSet::images)
      .def_readonly("labels", &ImageSet::labels)
      .def_readonly("class_names", &ImageSet::class_names)
      .def_readonly("paths", &ImageSet::paths)
      .def_readonly("skipped", &ImageSet::skipped);
  d.def("image_sets", &image_sets);

  bind_options<TagSetOptions>(d, "TagSetOptions", "the multi-label (tagged) image-set reader");
  py::class_<TagSet>(d, "TagSet")
      .def_readonly("images", &TagSet::images)
      .def_readonly("sizes", &TagSet::sizes)
      .def_readonly("targets", &TagSet::targets)
      .def_readonly("tags", &TagSet::tags)
      .def_readonly("counts", &TagSet::counts)
      .def_readonly("paths", &TagSet::paths)
      .def_readonly("names", &TagSet::names)
      .def_readonly("box_image", &TagSet::box_image)
      .def_readonly("box_tag", &TagSet::box_tag)
      .def_readonly("boxes", &TagSet::boxes)
      .def_readonly("skipped", &TagSet::skipped)
      .def_readonly("untagged", &TagSet::untagged)
      .def_readonly("mined", &TagSet::mined)
      .def_readonly("titles", &TagSet::titles)
      .def("__len__", &TagSet::size);
  d.def("tag_sets", &tag_sets);
  d.def("read_tag_set", &read_tag_set, py::arg("options"),
        py::call_guard<py::gil_scoped_release>());
  d.def("read_image_set", &read_image_set, py::arg("options"),
        py::call_guard<py::gil_scoped_release>());
}

}  // namespace lookalike::python
