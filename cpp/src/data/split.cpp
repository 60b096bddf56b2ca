#include "lookalike/data/split.h"

#include <cmath>
#include <map>

#include "lookalike/error.h"
#include "lookalike/util/rng.h"

namespace lookalike::data {

Split random_split(int64_t n, double first_fraction, uint64_t seed, const torch::Tensor& labels) {
  LOOKALIKE_CHECK_ARG(n > 0, "random_split: n must be positive, got ", n);
  LOOKALIKE_CHECK_ARG(first_fraction >= 0.0 && first_fraction <= 1.0,
                      "random_split: fraction must be in [0, 1], got ", first_fraction);
  std::vector<int64_t> first, second;
  auto take = [&](const std::vector<int64_t>& items, uint64_t s) {
    const auto perm = util::permutation(static_cast<int64_t>(items.size()), s);
    const auto k = static_cast<size_t>(std::llround(first_fraction * double(items.size())));
    for (size_t i = 0; i < perm.size(); ++i)
      (i < k ? first : second).push_back(items[static_cast<size_t>(perm[i])]);
  };
  if (labels.defined()) {
    LOOKALIKE_CHECK_ARG(
        labels.dim() == 1 && labels.size(0) == n && labels.scalar_type() == torch::kLong,
        "random_split: labels must be int64 [", n, "]");
    std::map<int64_t, std::vector<int64_t>> by_class;
    auto acc = labels.accessor<int64_t, 1>();
    for (int64_t i = 0; i < n; ++i) by_class[acc[i]].push_back(i);
    for (const auto& [label, items] : by_class) take(items, util::mix_seed(seed, uint64_t(label)));
  } else {
    std::vector<int64_t> all(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
    take(all, seed);
  }
  auto to_tensor = [](std::vector<int64_t>& v) {
    std::sort(v.begin(), v.end());
    return torch::tensor(v, torch::kLong);
  };
  return {to_tensor(first), to_tensor(second)};
}

ClassSplit class_split(const torch::Tensor& labels, double first_fraction, uint64_t seed) {
  LOOKALIKE_CHECK_ARG(labels.defined() && labels.dim() == 1 && labels.scalar_type() == torch::kLong,
                      "class_split: labels must be int64 [n]");
  LOOKALIKE_CHECK_ARG(first_fraction >= 0.0 && first_fraction <= 1.0,
                      "class_split: fraction must be in [0, 1], got ", first_fraction);
  const auto l = labels.contiguous();
  const int64_t* y = l.data_ptr<int64_t>();
  std::map<int64_t, int64_t> side;  // class -> 0 (first) / 1 (second), then its new label
  for (int64_t i = 0; i < l.numel(); ++i)
    if (y[i] >= 0) side[y[i]] = 0;
  LOOKALIKE_CHECK_ARG(!side.empty(), "class_split: no labelled item");
  std::vector<int64_t> classes;
  for (const auto& [c, unused] : side) classes.push_back(c);
  const auto perm = util::permutation(static_cast<int64_t>(classes.size()), seed);
  const auto k = static_cast<size_t>(std::llround(first_fraction * double(classes.size())));
  for (size_t i = 0; i < perm.size(); ++i) side[classes[size_t(perm[i])]] = i < k ? 0 : 1;
  std::vector<int64_t> ids[2], classes_of[2], new_label(classes.size());
  for (size_t c = 0; c < classes.size(); ++c) {  // in order of class id
    auto& side_classes = classes_of[side[classes[c]]];
    new_label[c] = static_cast<int64_t>(side_classes.size());
    side_classes.push_back(classes[c]);
  }
  std::map<int64_t, size_t> position;
  for (size_t c = 0; c < classes.size(); ++c) position[classes[c]] = c;
  std::vector<int64_t> relabelled[2];
  for (int64_t i = 0; i < l.numel(); ++i) {
    if (y[i] < 0) continue;
    const size_t c = position[y[i]];
    const auto s = side[y[i]];
    ids[s].push_back(i);
    relabelled[s].push_back(new_label[c]);
  }
  auto t = [](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); };
  return {{t(ids[0]), t(ids[1])},
          t(relabelled[0]),
          t(relabelled[1]),
          t(classes_of[0]),
          t(classes_of[1])};
}

std::pair<torch::Tensor, torch::Tensor> select_classes(const torch::Tensor& labels,
                                                       const torch::Tensor& classes) {
  auto int64_vector = [](const torch::Tensor& t, const char* name) {
    LOOKALIKE_CHECK_ARG(t.defined() && t.dim() == 1 && t.scalar_type() == torch::kLong,
                        "select_classes: ", name, " must be int64 [n]");
    auto c = t.contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  };
  const auto y = int64_vector(labels, "labels");
  const auto cls = int64_vector(classes, "classes");
  std::map<int64_t, int64_t> position;
  for (size_t i = 0; i < cls.size(); ++i)
    LOOKALIKE_CHECK_ARG(position.emplace(cls[i], int64_t(i)).second, "select_classes: class ",
                        cls[i], " is listed twice");
  std::vector<int64_t> index, renumbered;
  for (size_t i = 0; i < y.size(); ++i) {
    auto it = position.find(y[i]);
    if (it == position.end()) continue;
    index.push_back(static_cast<int64_t>(i));
    renumbered.push_back(it->second);
  }
  return {torch::tensor(index, torch::kLong), torch::tensor(renumbered, torch::kLong)};
}

}  // namespace lookalike::data
