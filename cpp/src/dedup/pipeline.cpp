#include "lookalike/dedup/pipeline.h"

#include <torch/torch.h>

#include "lookalike/error.h"
#include "lookalike/index/drop_self.h"
#include "lookalike/index/vector_index.h"

namespace lookalike::dedup {

std::vector<std::string> pipelines() { return detail::pipeline_registry().names(); }

std::unique_ptr<CandidatePipeline> make_pipeline(const std::string& name,
                                                 const nlohmann::json& options) {
  LOOKALIKE_CHECK_ARG(options.is_object() || options.is_null(), "pipeline '", name,
                      "': options must be a mapping");
  return detail::pipeline_registry().get(name)(options.is_null() ? nlohmann::json::object()
                                                                 : options);
}

namespace detail {
util::Registry<PipelineFactory>& pipeline_registry() {
  static util::Registry<PipelineFactory> table("pipeline");
  return table;
}

util::OptionsJson history_json(const std::vector<util::Record>& history) {
  util::OptionsJson out = util::OptionsJson::array();
  for (const auto& r : history) {
    util::OptionsJson rec = util::OptionsJson::object();
    for (const auto& [k, v] : r) rec[k] = v;
    out.push_back(rec);
  }
  return out;
}

VectorSearch take_vector_search(nlohmann::json& options, const std::string& pipeline) {
  VectorSearch how;
  if (options.contains("index")) {
    LOOKALIKE_CHECK_ARG(options["index"].is_string(), "option '", pipeline,
                        ".index' must be a FAISS factory string");
    how.spec = options["index"].get<std::string>();
    options.erase("index");
  }
  if (options.contains("search")) {  // parsed now: a bad search option fails before training
    util::options_from_json(options["search"], how.params, pipeline + ".search");
    options.erase("search");
  }
  return how;
}

std::pair<torch::Tensor, torch::Tensor> vector_candidates(const torch::Tensor& x,
                                                          const VectorSearch& how, int64_t n) {
  index::IndexOptions io;
  io.spec = how.spec;
  io.metric = "ip";
  index::VectorIndex vi(x.size(1), io);
  if (!vi.is_trained()) vi.train(x);
  vi.add(x, torch::arange(x.size(0), torch::kLong));
  auto found = vi.search(x, std::min<int64_t>(x.size(0), n + 1), how.params);
  return index::drop_self(found.indices, found.scores, n);
}
}  // namespace detail

}  // namespace lookalike::dedup
