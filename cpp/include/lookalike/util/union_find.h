#pragma once
// Disjoint sets over 0..n-1 (union by size, path halving): connected components of a graph
// given edge by edge (threshold clustering, duplicate groups from matching pairs).
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace lookalike::util {

struct UnionFind {
  std::vector<int64_t> parent, size;
  explicit UnionFind(int64_t n) : parent(n), size(n, 1) {
    std::iota(parent.begin(), parent.end(), int64_t{0});
  }
  int64_t find(int64_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];  // path halving
    return a;
  }
  void unite(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (size[a] < size[b]) std::swap(a, b);
    parent[b] = a;
    size[a] += size[b];
  }
  /// Component of each element, numbered 0.. in order of each component's first element.
  std::vector<int64_t> labels() {
    const int64_t n = static_cast<int64_t>(parent.size());
    std::vector<int64_t> root_label(n, -1), out(n);
    int64_t next = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = find(i);
      if (root_label[r] < 0) root_label[r] = next++;
      out[i] = root_label[r];
    }
    return out;
  }
};

}  // namespace lookalike::util
