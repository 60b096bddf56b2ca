// "text": the title encoder (hashed words and character n-grams, IDF-weighted embedding bag,
// projection, in-batch contrastive training on the fit rows' groups), searched through a
// VectorIndex.
#include "lookalike/dedup/text.h"
#include "lookalike/dedup/pipeline.h"

namespace lookalike::dedup::detail {

namespace {
class TextPipeline : public CandidatePipeline {
 public:
  TextPipeline(TextEncoderOptions o, VectorSearch how)
      : encoder_(std::move(o)), how_(std::move(how)) {}
  void fit(const Listings& items, const torch::Tensor& groups,
           const torch::Tensor& fit_rows) override {
    history_ = encoder_.fit(items.texts, groups, fit_rows);
    embeddings_ = encoder_.encode(items.texts);
  }
  std::pair<torch::Tensor, torch::Tensor> candidates(int64_t n) const override {
    return vector_candidates(embeddings_, how_, n);
  }
  torch::Tensor embeddings() const override { return embeddings_; }
  util::OptionsJson info() const override { return {{"history", history_json(history_)}}; }

 private:
  TextEncoder encoder_;
  VectorSearch how_;
  torch::Tensor embeddings_;
  std::vector<util::Record> history_;
};
}  // namespace

static std::unique_ptr<CandidatePipeline> make_text_pipeline(const nlohmann::json& options) {
  nlohmann::json rest = options;
  auto how = take_vector_search(rest, "text");
  TextEncoderOptions o;
  util::options_update_flat(rest, o, "text");
  return std::make_unique<TextPipeline>(std::move(o), std::move(how));
}

LOOKALIKE_REGISTER(pipeline_registry(), "text", make_text_pipeline)

}  // namespace lookalike::dedup::detail
