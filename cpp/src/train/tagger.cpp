#include "lookalike/train/tagger.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "lookalike/error.h"
#include "lookalike/eval/multilabel.h"
#include "lookalike/models/embed.h"
#include "lookalike/util/files.h"
#include "model_archive.h"

namespace lookalike::train {
namespace {
constexpr const char* kFormat = "lookalike.Tagger/1";
}

void check_tagger(const Tagger& t) {
  auto net = t.net;  // a shared handle (the accessors are not const)
  LOOKALIKE_CHECK_ARG(!net.is_empty() && net->classifier(),
                      "tagger: the network has no classifier");
  const auto k = static_cast<int64_t>(t.tags.size());
  const auto outputs = net->classifier()->weight.size(0);
  LOOKALIKE_CHECK_ARG(k > 0 && outputs == k, "tagger: ", k, " tags but the classifier has ",
                      outputs, " outputs");
  tag_families(t.tags, t.exclusive);  // every exclusive family exists
  LOOKALIKE_CHECK_ARG(
      !t.thresholds.defined() || (t.thresholds.dim() == 1 && t.thresholds.size(0) == k &&
                                  t.thresholds.scalar_type() == torch::kFloat),
      "tagger: thresholds must be float [", k, "]");
}

torch::Tensor tag_scores(Tagger& t, const torch::Tensor& images, int64_t batch_size,
                         const std::string& device) {
  check_tagger(t);
  auto out = models::infer(t.net, images, batch_size, device, /*with_logits=*/true);
  return tag_probabilities(out.logits, tag_families(t.tags, t.exclusive));
}

eval::Thresholds fit_thresholds(Tagger& t, const torch::Tensor& scores,
                                const torch::Tensor& targets,
                                const eval::ThresholdOptions& options) {
  check_tagger(t);
  LOOKALIKE_CHECK_ARG(scores.dim() == 2 && scores.size(1) == static_cast<int64_t>(t.tags.size()),
                      "fit_thresholds: scores must be [N, ", t.tags.size(), "], got ",
                      scores.sizes());
  auto chosen = eval::choose_thresholds(scores, targets, options);
  t.thresholds = chosen.threshold.clone();
  t.threshold_options = options;
  return chosen;
}

torch::Tensor predict_tags(const Tagger& t, const torch::Tensor& scores) {
  LOOKALIKE_CHECK_ARG(t.thresholds.defined(),
                      "predict_tags: the tagger has no thresholds yet (fit_thresholds on "
                      "validation photos first)");
  return eval::apply_thresholds(scores, t.thresholds);
}

void save_tagger(const Tagger& t, const std::string& path) {
  check_tagger(t);
  util::write_atomic_with(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string(kFormat)));
    auto net = t.net;
    detail::write_net(archive, net);
    archive.write("tags", c10::IValue(nlohmann::json(t.tags).dump()));
    archive.write("exclusive", c10::IValue(nlohmann::json(t.exclusive).dump()));
    archive.write("threshold_options", c10::IValue(util::options_json(t.threshold_options).dump()));
    if (t.thresholds.defined()) archive.write("thresholds", t.thresholds);
    archive.save_to(tmp);
  });
}

Tagger load_tagger(const std::string& path) {
  return guard_file_read(path, "tagger file", [&] {
    torch::serialize::InputArchive archive;
    detail::open_archive(archive, path, "tagger", kFormat);
    c10::IValue tags, exclusive, options;
    Tagger t;
    t.net = detail::read_net(archive, path);
    try {
      archive.read("tags", tags);
      archive.read("exclusive", exclusive);
      archive.read("threshold_options", options);
      t.tags = nlohmann::json::parse(tags.toStringRef()).get<std::vector<std::string>>();
      t.exclusive = nlohmann::json::parse(exclusive.toStringRef()).get<std::vector<std::string>>();
    } catch (const std::exception& e) {
      throw FileError(
          ::lookalike::detail::concat("tagger file '", path, "' is damaged: ", e.what()));
    }
    t.threshold_options =
        util::options_from_json_text<eval::ThresholdOptions>(options.toStringRef(), "thresholds");
    torch::Tensor thresholds;
    if (archive.try_read("thresholds", thresholds)) t.thresholds = thresholds;
    check_tagger(t);
    return t;
  });
}

}  // namespace lookalike::train
