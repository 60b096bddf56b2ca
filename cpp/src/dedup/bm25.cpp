#include "lookalike/dedup/bm25.h"

#include <torch/torch.h>

#ifdef LOOKALIKE_HAVE_XAPIAN
#include <xapian.h>
#endif

#include "lookalike/error.h"
#include "lookalike/index/drop_self.h"

namespace lookalike::dedup {

bool have_xapian() {
#ifdef LOOKALIKE_HAVE_XAPIAN
  return true;
#else
  return false;
#endif
}

#ifdef LOOKALIKE_HAVE_XAPIAN
struct Bm25Index::Impl {
  Bm25Options options;
  Xapian::WritableDatabase db{std::string(), Xapian::DB_BACKEND_INMEMORY};
  Xapian::Stem stem;
  int64_t n = 0;

  // The same tokeniser and stemmer for documents and queries (STEM_ALL: stems only, so a word
  // is one term).
  Xapian::TermGenerator generator() const {
    Xapian::TermGenerator gen;
    gen.set_stemmer(stem);
    gen.set_stemming_strategy(stem.is_none() ? Xapian::TermGenerator::STEM_NONE
                                             : Xapian::TermGenerator::STEM_ALL);
    return gen;
  }

  // The query text's terms, OR-ed: any shared word proposes a candidate, BM25 ranks them.
  Xapian::Query query_for(const std::string& text) const {
    auto gen = generator();
    Xapian::Document doc;
    gen.set_document(doc);
    gen.index_text(text);
    std::vector<std::string> terms(doc.termlist_begin(), doc.termlist_end());
    return Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
  }
};

Bm25Index::Bm25Index(const std::vector<std::string>& documents, Bm25Options options)
    : impl_(std::make_unique<Impl>()) {
  LOOKALIKE_CHECK_ARG(!documents.empty(), "Bm25Index: no documents");
  LOOKALIKE_CHECK_ARG(options.k1 >= 0 && options.b >= 0 && options.b <= 1,
                      "Bm25Index: k1 must be >= 0 and b in [0, 1] (k1 ", options.k1, ", b ",
                      options.b, ")");
  impl_->options = options;
  if (options.language != "none") {
    try {
      impl_->stem = Xapian::Stem(options.language);
    } catch (const Xapian::Error& e) {
      throw InvalidArgument(detail::concat("Bm25Index: unknown stemmer language '",
                                           options.language, "' (", e.get_msg(), ")"));
    }
  }
  auto gen = impl_->generator();
  for (const auto& text : documents) {
    Xapian::Document doc;
    gen.set_document(doc);
    gen.index_text(text);
    impl_->db.add_document(doc);  // document ids 1, 2, ... = row + 1
  }
  impl_->db.commit();
  impl_->n = static_cast<int64_t>(documents.size());
}

int64_t Bm25Index::size() const { return impl_->n; }

std::pair<torch::Tensor, torch::Tensor> Bm25Index::search(const std::vector<std::string>& queries,
                                                          int64_t n, bool exclude_self) const {
  LOOKALIKE_CHECK_ARG(n >= 1, "Bm25Index.search: n must be >= 1, got ", n);
  const int64_t nq = static_cast<int64_t>(queries.size());
  if (exclude_self) {
    LOOKALIKE_CHECK_ARG(nq == impl_->n, "Bm25Index.search: exclude_self needs one query per row (",
                        nq, " queries, ", impl_->n, " rows)");
  }
  // With exclude_self: one more candidate, then the one helper that drops the query itself.
  const int64_t depth = n + (exclude_self ? 1 : 0);
  auto ids = torch::full({nq, depth}, -1, torch::kLong);
  auto scores = torch::full({nq, depth}, 0.0f, torch::kFloat);
  auto ip = ids.accessor<int64_t, 2>();
  auto sp = scores.accessor<float, 2>();
  Xapian::Enquire enquire(impl_->db);
  enquire.set_weighting_scheme(Xapian::BM25Weight(impl_->options.k1, 0, 1, impl_->options.b, 0.5));
  for (int64_t q = 0; q < nq; ++q) {
    enquire.set_query(impl_->query_for(queries[q]));
    auto mset = enquire.get_mset(0, static_cast<Xapian::doccount>(depth));
    int64_t w = 0;
    for (auto it = mset.begin(); it != mset.end() && w < depth; ++it, ++w) {
      ip[q][w] = static_cast<int64_t>(*it) - 1;
      sp[q][w] = static_cast<float>(it.get_weight());
    }
  }
  if (!exclude_self) return {ids, scores};
  return index::drop_self(ids, scores, n);
}

#else  // no Xapian in this build

struct Bm25Index::Impl {};
Bm25Index::Bm25Index(const std::vector<std::string>&, Bm25Options) {
  throw InvalidArgument("Bm25Index: this build has no Xapian (install libxapian-dev)");
}
int64_t Bm25Index::size() const { return 0; }
std::pair<torch::Tensor, torch::Tensor> Bm25Index::search(const std::vector<std::string>&, int64_t,
                                                          bool) const {
  throw InvalidArgument("Bm25Index: this build has no Xapian");
}

#endif

Bm25Index::~Bm25Index() = default;
Bm25Index::Bm25Index(Bm25Index&&) noexcept = default;
Bm25Index& Bm25Index::operator=(Bm25Index&&) noexcept = default;

}  // namespace lookalike::dedup
