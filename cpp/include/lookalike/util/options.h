#pragma once
// Options declared once. An option struct is a plain struct with default member initialisers;
// one line after it,
//
//     LOOKALIKE_OPTIONS(TrainOptions, epochs, batch_size, lr, ..., model, filter)
//
// lists its fields, and from that list alone come: the field names (option_names), JSON
// (options_json; strict options_from_json that names an unknown key with the known ones and a
// value of the wrong type with the type expected), the flat keyword form Python's `fit(**kw)`
// and study configs use (options_flat_json / options_update_flat), checkpoint comparisons and the
// Python binding (python/src/options.h: one generic binder). Adding an option is one line in
// the struct plus its name in that list (a field left out of the list cannot be set from
// Python or a config, and is missing from every JSON record, so it shows at first use).
//
// Field types: bool, integers, floating point, std::string, std::vector of those, nested option
// structs (another LOOKALIKE_OPTIONS type), and torch::Tensor (data carried beside options:
// bound to Python, left out of JSON).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include <torch/types.h>

#include "lookalike/error.h"

#define LOOKALIKE_OPTION_FIELD_(field) visit(#field, &Options_::field);

/// Declares the fields of an option struct (in its namespace, after the struct).
#define LOOKALIKE_OPTIONS(Type, ...)                                                \
  template <class Visit>                                                            \
  void visit_options(const Type*, Visit&& visit) {                                  \
    using Options_ = Type;                                                          \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(LOOKALIKE_OPTION_FIELD_, __VA_ARGS__)) \
  }                                                                                 \
  inline const char* options_type_name(const Type*) { return #Type; }

namespace lookalike::util {

using OptionsJson = nlohmann::ordered_json;

namespace detail {
struct NoVisit {
  template <class M>
  void operator()(const char*, M) const {}
};
template <class T, class = void>
struct IsOptions : std::false_type {};
template <class T>
struct IsOptions<T, std::void_t<decltype(visit_options(static_cast<const T*>(nullptr),
                                                       std::declval<NoVisit&>()))>>
    : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class E>
struct IsVector<std::vector<E>> : std::true_type {};
template <class M>
struct MemberType;
template <class C, class M>
struct MemberType<M C::*> {
  using type = M;
};
}  // namespace detail

/// True for a struct declared with LOOKALIKE_OPTIONS.
template <class T>
constexpr bool is_options_v = detail::IsOptions<T>::value;

/// Calls visit(name, pointer-to-member) for each declared field of T, in declaration order.
template <class T, class Visit>
void for_each_option(Visit&& visit) {
  static_assert(is_options_v<T>, "not declared with LOOKALIKE_OPTIONS");
  visit_options(static_cast<const T*>(nullptr), visit);
}

/// The struct's name as declared ("TrainOptions").
template <class T>
std::string options_name() {
  return options_type_name(static_cast<const T*>(nullptr));
}

/// The declared field names of T, in order.
template <class T>
std::vector<std::string> option_names() {
  std::vector<std::string> names;
  for_each_option<T>([&](const char* name, auto) { names.emplace_back(name); });
  return names;
}

/// "a, b, c": the names for an error message.
std::string join_names(const std::vector<std::string>& names);

namespace detail {
template <class M>
OptionsJson value_json(const M& v);

template <class T>
OptionsJson struct_json(const T& o) {
  OptionsJson j = OptionsJson::object();
  for_each_option<T>([&](const char* name, auto member) {
    using M = typename MemberType<decltype(member)>::type;
    if constexpr (!std::is_same_v<M, torch::Tensor>) j[name] = value_json(o.*member);
  });
  return j;
}

template <class M>
OptionsJson value_json(const M& v) {
  if constexpr (is_options_v<M>) {
    return struct_json(v);
  } else if constexpr (IsVector<M>::value) {
    OptionsJson a = OptionsJson::array();
    for (const auto& e : v) a.push_back(value_json(e));
    return a;
  } else {
    return OptionsJson(v);
  }
}

[[noreturn]] void wrong_type(const std::string& where, const char* expected,
                             const nlohmann::json& got);

template <class M>
void read_value(const nlohmann::json& j, M& out, const std::string& where);

// Updates the fields of `o` named in object `j`; unknown keys and wrong types throw.
template <class T>
void read_struct(const nlohmann::json& j, T& o, const std::string& where) {
  if (!j.is_object()) wrong_type(where, "a mapping of options", j);
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool found = false;
    const std::string path = where.empty() ? it.key() : where + "." + it.key();
    for_each_option<T>([&](const char* name, auto member) {
      if (found || it.key() != name) return;
      found = true;
      read_value(it.value(), o.*member, path);
    });
    LOOKALIKE_CHECK_ARG(found, "unknown option '", path, "' (", options_name<T>(),
                        "); known: ", join_names(option_names<T>()));
  }
}

template <class M>
void read_value(const nlohmann::json& j, M& out, const std::string& where) {
  if constexpr (is_options_v<M>) {
    read_struct(j, out, where);
  } else if constexpr (std::is_same_v<M, bool>) {
    if (!j.is_boolean()) wrong_type(where, "true or false", j);
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<M>) {
    if (!j.is_number_integer()) wrong_type(where, "an integer", j);
    if (j.is_number_unsigned()) {
      const auto v = j.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<M>::max()))
        wrong_type(where, "an integer in range", j);
      out = static_cast<M>(v);
    } else {
      const auto v = j.get<int64_t>();
      if (v < static_cast<int64_t>(std::numeric_limits<M>::min()) ||
          (std::is_signed_v<M> && v > static_cast<int64_t>(std::numeric_limits<M>::max())))
        wrong_type(where, std::is_signed_v<M> ? "an integer in range" : "a non-negative integer",
                   j);
      out = static_cast<M>(v);
    }
  } else if constexpr (std::is_floating_point_v<M>) {
    if (!j.is_number()) wrong_type(where, "a number", j);
    out = j.get<M>();
  } else if constexpr (std::is_same_v<M, std::string>) {
    if (!j.is_string()) wrong_type(where, "a string", j);
    out = j.get<std::string>();
  } else if constexpr (IsVector<M>::value) {
    if (!j.is_array()) wrong_type(where, "a list", j);
    M values(j.size());
    for (size_t i = 0; i < j.size(); ++i)
      read_value(j[i], values[i], where + "[" + std::to_string(i) + "]");
    out = std::move(values);
  } else if constexpr (std::is_same_v<M, torch::Tensor>) {
    wrong_type(where, "a tensor (set it on the options object, not in JSON or a config)", j);
  } else {
    static_assert(sizeof(M) == 0, "option field of a type options.h does not handle");
  }
}
}  // namespace detail

/// The options as JSON (tensor fields left out), fields in declaration order.
template <class T>
OptionsJson options_json(const T& o) {
  return detail::struct_json(o);
}

/// Sets the fields named in `j` (a JSON object, possibly partial; nested structs as objects).
/// Throws InvalidArgument naming `where.key` for an unknown key (with the known ones) or a
/// value of the wrong type.
template <class T>
void options_from_json(const nlohmann::json& j, T& o, const std::string& where = "") {
  detail::read_struct(j, o, where);
}

/// Parses JSON text into default options updated by it (see options_from_json).
template <class T>
T options_from_json_text(const std::string& text, const std::string& where = "") {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(::lookalike::detail::concat(options_name<T>(), " (", where,
                                                      "): not valid JSON: ", e.what()));
  }
  T o;
  options_from_json(j, o, where);
  return o;
}

/// The flat keyword form: the struct's own fields, with each nested option struct's fields
/// lifted to the top (`fit(epochs=2, channels=[8], filter="coteaching")`). Names must be unique
/// across the levels (flat_names_unique; the option tests check every flattened struct).
template <class T>
OptionsJson options_flat_json(const T& o) {
  OptionsJson flat = OptionsJson::object();
  for_each_option<T>([&](const char* name, auto member) {
    using M = typename detail::MemberType<decltype(member)>::type;
    if constexpr (is_options_v<M>) {
      const OptionsJson nested = options_json(o.*member);
      for (auto it = nested.begin(); it != nested.end(); ++it) flat[it.key()] = it.value();
    } else if constexpr (!std::is_same_v<M, torch::Tensor>) {
      flat[name] = detail::value_json(o.*member);
    }
  });
  return flat;
}

/// The names of the flat form (options_flat_json), in order; tensor fields left out.
template <class T>
std::vector<std::string> flat_option_names() {
  std::vector<std::string> names;
  for_each_option<T>([&](const char* name, auto member) {
    using M = typename detail::MemberType<decltype(member)>::type;
    if constexpr (is_options_v<M>) {
      for (auto& sub : option_names<M>()) names.push_back(sub);
    } else if constexpr (!std::is_same_v<M, torch::Tensor>) {
      names.emplace_back(name);
    }
  });
  return names;
}

/// True when no two fields of the flat form share a name.
template <class T>
bool flat_names_unique() {
  auto names = flat_option_names<T>();
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) == names.end();
}

/// Sets options from the flat form (see options_flat_json); unknown keys are errors listing the
/// flat names.
template <class T>
void options_update_flat(const nlohmann::json& flat, T& o, const std::string& where = "") {
  if (!flat.is_object()) detail::wrong_type(where, "a mapping of options", flat);
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    bool found = false;
    const std::string path = where.empty() ? it.key() : where + "." + it.key();
    for_each_option<T>([&](const char* name, auto member) {
      using M = typename detail::MemberType<decltype(member)>::type;
      if (found) return;
      if constexpr (is_options_v<M>) {
        if (it.key() == name && it.value().is_object()) {  // the nested struct as a mapping
          found = true;
          options_from_json(it.value(), o.*member, path);
          return;
        }
        for (const auto& sub : option_names<M>()) {
          if (sub != it.key()) continue;
          found = true;
          options_from_json(nlohmann::json{{it.key(), it.value()}}, o.*member,
                            where.empty() ? name : where + "." + name);
          return;
        }
      } else if (it.key() == name) {
        found = true;
        detail::read_value(it.value(), o.*member, path);
      }
    });
    LOOKALIKE_CHECK_ARG(found, "unknown option '", path, "' (", options_name<T>(),
                        "); known: ", join_names(flat_option_names<T>()));
  }
}

}  // namespace lookalike::util
