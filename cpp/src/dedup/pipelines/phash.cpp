// "phash": Hamming distance between 64-bit perceptual hashes (FAISS binary index); score
// 1 - bits / 64, higher is nearer like the other pipelines.
#include "lookalike/dedup/candidates.h"
#include "lookalike/dedup/pipeline.h"
#include "lookalike/error.h"

namespace lookalike::dedup::detail {

namespace {
class PhashPipeline : public CandidatePipeline {
 public:
  void fit(const Listings& items, const torch::Tensor&, const torch::Tensor&) override {
    LOOKALIKE_CHECK_ARG(items.phash.defined() && items.phash.numel() > 0,
                        "pipeline 'phash' needs listings with a phash column");
    phash_ = items.phash;
  }
  std::pair<torch::Tensor, torch::Tensor> candidates(int64_t n) const override {
    auto [ids, bits] = hamming_candidates(phash_, n);
    return {ids, 1.0 - bits / 64.0};
  }

 private:
  torch::Tensor phash_;
};
}  // namespace

static std::unique_ptr<CandidatePipeline> make_phash_pipeline(const nlohmann::json& options) {
  LOOKALIKE_CHECK_ARG(options.empty(), "pipeline 'phash' takes no options, got ", options.dump());
  return std::make_unique<PhashPipeline>();
}

LOOKALIKE_REGISTER(pipeline_registry(), "phash", make_phash_pipeline)

}  // namespace lookalike::dedup::detail
