#pragma once
// The one binder of option structs: every field declared with LOOKALIKE_OPTIONS becomes an
// attribute, plus fields() (names), to_dict(), update(dict) and the keyword constructor, all
// strict (an unknown key or a wrong type is a ValueError naming it and the known ones).
#include <string>

#include "bindings.h"
#include "lookalike/util/options.h"

namespace lookalike::python {

/// Python value (None, bool, int, float, str, list/tuple, dict; NumPy scalars through
/// __index__ / __float__) as JSON; anything else is a ValueError naming `where`.
nlohmann::json to_json_value(const py::handle& value, const std::string& where);
/// JSON as the Python value (dict, list, ...).
py::object from_json_value(const nlohmann::ordered_json& j);

/// Binds option struct T as `name` in `m`.
template <class T>
py::class_<T> bind_options(py::module_& m, const char* name, const char* doc = "") {
  py::class_<T> c(m, name, doc);
  c.def(py::init([](const py::kwargs& kw) {
    T o;
    util::options_from_json(to_json_value(kw, util::options_name<T>()), o);
    return o;
  }));
  util::for_each_option<T>([&](const char* field, auto member) { c.def_readwrite(field, member); });
  c.def_static("fields", &util::option_names<T>, "the option names, in declaration order");
  c.def("to_dict", [](const T& o) { return from_json_value(util::options_json(o)); });
  c.def(
      "update",
      [](T& o, const py::dict& values, const std::string& where) {
        util::options_from_json(to_json_value(values, where), o, where);
      },
      py::arg("values"), py::arg("where") = "",
      "sets the options named in `values` (nested options as dicts)");
  c.def("__copy__", [](const T& o) { return T(o); });
  c.def("__deepcopy__", [](const T& o, const py::dict&) { return T(o); });
  c.def("__eq__",
        [](const T& a, const T& b) { return util::options_json(a) == util::options_json(b); });
  c.def("__repr__", [name](const T& o) {
    return std::string(name) + "(" + util::options_json(o).dump() + ")";
  });
  return c;
}

/// Adds the flat keyword form (nested options' fields lifted to the top) to a bound struct.
template <class T>
void bind_flat_options(py::class_<T>& c) {
  c.def("to_flat_dict", [](const T& o) { return from_json_value(util::options_flat_json(o)); });
  c.def(
      "update_flat",
      [](T& o, const py::dict& values, const std::string& where) {
        util::options_update_flat(to_json_value(values, where), o, where);
      },
      py::arg("values"), py::arg("where") = "");
}

}  // namespace lookalike::python
