#include "options.h"

#include "lookalike/error.h"

namespace lookalike::python {

nlohmann::json to_json_value(const py::handle& value, const std::string& where) {
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) return value.cast<int64_t>();
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::dict>(value)) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& item : value.cast<py::dict>()) {
      const std::string key = py::str(item.first);
      out[key] = to_json_value(item.second, where.empty() ? key : where + "." + key);
    }
    return out;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    nlohmann::json out = nlohmann::json::array();
    size_t i = 0;
    for (const auto& item : value)
      out.push_back(to_json_value(item, where + "[" + std::to_string(i++) + "]"));
    return out;
  }
  // NumPy / torch scalars.
  if (py::hasattr(value, "dtype") && py::hasattr(value, "item") &&
      py::len(py::getattr(value, "shape", py::tuple())) == 0)
    return to_json_value(value.attr("item")(), where);
  throw InvalidArgument(detail::concat("option '", where, "': a value of type ",
                                       std::string(py::str(value.get_type().attr("__name__"))),
                                       " cannot be an option value"));
}

py::object from_json_value(const nlohmann::ordered_json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

}  // namespace lookalike::python
