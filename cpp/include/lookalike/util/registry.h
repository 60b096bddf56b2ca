#pragma once
// Strategies by name (noise filters, candidate pipelines, retrieval metrics, ...). A family
// owns one Registry, reached through a function so that it exists before the first strategy
// registers; each strategy registers itself from its own file:
//
//   LOOKALIKE_REGISTER(noisy::filter_registry(), "small_loss", make_small_loss);
//
// so adding one is its file plus its test. The core library is linked whole-archive
// (CMakeLists.txt, lookalike_link_core) so that no registering object is dropped by the linker.
// names() is what Python reads instead of keeping a list.
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lookalike/error.h"
#include "lookalike/util/options.h"

namespace lookalike::util {

template <class Factory>
class Registry {
 public:
  using factory_type = Factory;
  /// `what` names the family in errors ("pipeline", "filter").
  explicit Registry(std::string what) : what_(std::move(what)) {}

  /// Called at static initialisation by LOOKALIKE_REGISTER; a name registered twice is a
  /// programming error (std::logic_error).
  void add(const std::string& name, Factory factory) {
    if (!entries_.emplace(name, std::move(factory)).second)
      throw std::logic_error(what_ + " '" + name + "' is registered twice");
  }

  /// The names, sorted (independent of link order).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.push_back(entry.first);
    return out;
  }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  /// The factory registered as `name`; InvalidArgument naming the known ones otherwise.
  const Factory& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end())
      throw InvalidArgument(::lookalike::detail::concat("unknown ", what_, " '", name,
                                                        "'; known: ", join_names(names())));
    return it->second;
  }

 private:
  std::string what_;
  std::map<std::string, Factory> entries_;
};

/// One registration, made by a namespace-scope object in the strategy's file.
template <class Factory>
struct Registration {
  template <class F>
  Registration(Registry<Factory>& registry, const char* name, F&& factory) {
    registry.add(name, Factory(std::forward<F>(factory)));
  }
};

}  // namespace lookalike::util

#define LOOKALIKE_REGISTRY_CAT2(a, b) a##b
#define LOOKALIKE_REGISTRY_CAT(a, b) LOOKALIKE_REGISTRY_CAT2(a, b)
/// Registers `factory` as `name` in `registry` (an expression returning a Registry&).
#define LOOKALIKE_REGISTER(registry, name, factory)                                           \
  namespace {                                                                                 \
  const auto LOOKALIKE_REGISTRY_CAT(lookalike_registration_, __LINE__) =                      \
      ::lookalike::util::Registration<                                                        \
          typename std::remove_reference_t<decltype(registry)>::factory_type>(registry, name, \
                                                                              factory);       \
  }
