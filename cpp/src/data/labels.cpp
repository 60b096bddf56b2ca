#include "lookalike/data/labels.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "lookalike/error.h"

namespace lookalike::data {

namespace {
void check(const LabelOptions& o) {
  LOOKALIKE_CHECK_ARG(o.order == "first" || o.order == "frequency" || o.order == "sorted",
                      "encode_labels: order must be first, frequency or sorted; got '", o.order,
                      "'");
  LOOKALIKE_CHECK_ARG(o.empty == "missing" || o.empty == "own",
                      "encode_labels: empty must be missing or own; got '", o.empty, "'");
  LOOKALIKE_CHECK_ARG(o.top >= 0, "encode_labels: top must be >= 0, got ", o.top);
  LOOKALIKE_CHECK_ARG(o.empty != "own" || (o.order == "first" && o.top == 0),
                      "encode_labels: empty = own (a class per empty row) needs order = first and "
                      "top = 0");
}
}  // namespace

EncodedLabels encode_labels(const std::vector<std::string>& values, const LabelOptions& o) {
  check(o);
  const int64_t n = static_cast<int64_t>(values.size());
  EncodedLabels out;
  out.codes = torch::full({n}, -1, torch::kLong);
  int64_t* code = out.codes.data_ptr<int64_t>();
  if (o.empty == "own") {  // first appearance, each empty row a class of its own
    std::unordered_map<std::string, int64_t> known;
    for (int64_t i = 0; i < n; ++i) {
      const auto& v = values[static_cast<size_t>(i)];
      const int64_t next = static_cast<int64_t>(out.names.size());
      if (v.empty()) {
        code[i] = next;
        out.names.emplace_back();
        continue;
      }
      auto [it, fresh] = known.emplace(v, next);
      if (fresh) out.names.push_back(v);
      code[i] = it->second;
    }
    return out;
  }
  // The distinct non-empty values in order of first appearance, with their counts.
  std::unordered_map<std::string, size_t> slot;
  std::vector<std::string> distinct;
  std::vector<int64_t> count;
  for (const auto& v : values) {
    if (v.empty()) continue;
    auto [it, fresh] = slot.emplace(v, distinct.size());
    if (fresh) distinct.push_back(v), count.push_back(0);
    ++count[it->second];
  }
  std::vector<size_t> rank(distinct.size());
  std::iota(rank.begin(), rank.end(), 0);
  if (o.order == "frequency")
    std::stable_sort(rank.begin(), rank.end(),
                     [&](size_t a, size_t b) { return count[a] > count[b]; });
  else if (o.order == "sorted")
    std::sort(rank.begin(), rank.end(),
              [&](size_t a, size_t b) { return distinct[a] < distinct[b]; });
  const size_t kept = o.top > 0 ? std::min(rank.size(), static_cast<size_t>(o.top)) : rank.size();
  std::vector<int64_t> code_of(distinct.size(), -1);
  for (size_t c = 0; c < kept; ++c) {
    code_of[rank[c]] = static_cast<int64_t>(c);
    out.names.push_back(distinct[rank[c]]);
  }
  for (int64_t i = 0; i < n; ++i) {
    const auto& v = values[static_cast<size_t>(i)];
    if (!v.empty()) code[i] = code_of[slot.at(v)];
  }
  return out;
}

}  // namespace lookalike::data
