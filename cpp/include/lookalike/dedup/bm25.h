#pragma once
// BM25 candidate generation over short texts (product titles) with Xapian: the role
// Elasticsearch plays in the duplicate-recall study. In-memory index, one document per row.
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "lookalike/util/options.h"

namespace lookalike::dedup {

struct Bm25Options {
  double k1 = 1.2;                   // term-frequency saturation
  double b = 0.75;                   // length normalisation
  std::string language = "english";  // Snowball stemmer; "none": no stemming
};
LOOKALIKE_OPTIONS(Bm25Options, k1, b, language)

/// True when this build links Xapian.
bool have_xapian();

class Bm25Index {
 public:
  /// Indexes `documents` (UTF-8; row i gets id i). Throws InvalidArgument on an empty set or an
  /// unknown stemmer language, and when this build has no Xapian.
  explicit Bm25Index(const std::vector<std::string>& documents, Bm25Options options = {});
  ~Bm25Index();
  Bm25Index(Bm25Index&&) noexcept;
  Bm25Index& operator=(Bm25Index&&) noexcept;

  int64_t size() const;
  /// For each query text: the n best rows by BM25 (any term may match: OR query), as ids
  /// int64 [nq, n] (-1 where fewer matched) and scores float32 [nq, n]. With exclude_self,
  /// query i is row i and never its own candidate.
  std::pair<torch::Tensor, torch::Tensor> search(const std::vector<std::string>& queries, int64_t n,
                                                 bool exclude_self = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lookalike::dedup
