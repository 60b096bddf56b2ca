// "bm25": Xapian BM25 over each listing's text (title + text columns), Elasticsearch's role.
#include "lookalike/dedup/bm25.h"
#include "lookalike/dedup/pipeline.h"

namespace lookalike::dedup::detail {

namespace {
class Bm25Pipeline : public CandidatePipeline {
 public:
  explicit Bm25Pipeline(Bm25Options o) : o_(std::move(o)) {}
  void fit(const Listings& items, const torch::Tensor&, const torch::Tensor&) override {
    texts_ = items.texts;
  }
  std::pair<torch::Tensor, torch::Tensor> candidates(int64_t n) const override {
    return Bm25Index(texts_, o_).search(texts_, n, /*exclude_self=*/true);
  }

 private:
  Bm25Options o_;
  std::vector<std::string> texts_;
};
}  // namespace

static std::unique_ptr<CandidatePipeline> make_bm25_pipeline(const nlohmann::json& options) {
  Bm25Options o;
  util::options_from_json(options, o, "bm25");
  return std::make_unique<Bm25Pipeline>(std::move(o));
}

LOOKALIKE_REGISTER(pipeline_registry(), "bm25", make_bm25_pipeline)

}  // namespace lookalike::dedup::detail
