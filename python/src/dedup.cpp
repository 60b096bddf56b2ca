#include <pybind11/stl.h>

#include "bindings.h"
#include "lookalike/dedup/bm25.h"

namespace lookalike::python {

void bind_dedup(py::module_& m) {
  auto x = m.def_submodule("dedup", "duplicate-product candidates");
  x.def("have_xapian", &dedup::have_xapian);
  py::class_<dedup::Bm25Index>(x, "Bm25Index")
      .def(py::init([](const std::vector<std::string>& docs, double k1, double b,
                       const std::string& language) {
             dedup::Bm25Options o;
             o.k1 = k1;
             o.b = b;
             o.language = language;
             return dedup::Bm25Index(docs, o);
           }),
           py::arg("documents"), py::arg("k1") = 1.2, py::arg("b") = 0.75,
           py::arg("language") = "english", py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("size", &dedup::Bm25Index::size)
      .def(
          "search",
          [](const dedup::Bm25Index& self, const std::vector<std::string>& queries, int64_t n,
             bool exclude_self) {
            auto r = self.search(queries, n, exclude_self);
            return std::make_tuple(r.first, r.second);
          },
          py::arg("queries"), py::arg("n"), py::arg("exclude_self") = false,
          py::call_guard<py::gil_scoped_release>());
}

}  // namespace lookalike::python
