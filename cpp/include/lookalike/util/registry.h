#pragma once
// Strategies by name: a table of (name, factory) in the file that owns the strategy family
// (noise filters, candidate pipelines, ...). Adding a strategy is its own file plus one line in
// that table; names() is what Python reads instead of keeping a list.
#include <string>
#include <utility>
#include <vector>

#include "lookalike/error.h"
#include "lookalike/util/options.h"

namespace lookalike::util {

template <class Factory>
class Registry {
 public:
  /// `what` names the family in errors ("pipeline", "filter").
  Registry(std::string what, std::vector<std::pair<std::string, Factory>> entries)
      : what_(std::move(what)), entries_(std::move(entries)) {}

  /// The names, in table order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.push_back(entry.first);
    return out;
  }
  bool contains(const std::string& name) const {
    for (const auto& entry : entries_)
      if (entry.first == name) return true;
    return false;
  }
  /// The factory registered as `name`; InvalidArgument naming the known ones otherwise.
  const Factory& get(const std::string& name) const {
    for (const auto& entry : entries_)
      if (entry.first == name) return entry.second;
    throw InvalidArgument(::lookalike::detail::concat("unknown ", what_, " '", name,
                                                      "'; known: ", join_names(names())));
  }

 private:
  std::string what_;
  std::vector<std::pair<std::string, Factory>> entries_;
};

}  // namespace lookalike::util
