// "image": the Trainer's network (any backbone, pretrained weights, fine-tuning controls, a
// metric loss) trained on the fit rows' photos to predict their group (or an attribute column
// such as the article type), or with "train": false the network as built and loaded (a
// pretrained backbone's own embeddings); its L2-normalised embeddings searched through a
// VectorIndex.
#include <torch/torch.h>

#include <algorithm>

#include "lookalike/data/labels.h"
#include "lookalike/dedup/pipeline.h"
#include "lookalike/error.h"
#include "lookalike/models/embed.h"
#include "lookalike/train/trainer.h"

namespace lookalike::dedup::detail {

namespace {
class ImagePipeline : public CandidatePipeline {
 public:
  ImagePipeline(train::TrainOptions o, std::string label, bool train, VectorSearch how)
      : o_(std::move(o)), label_(std::move(label)), train_(train), how_(std::move(how)) {}

  void fit(const Listings& items, const torch::Tensor& groups,
           const torch::Tensor& fit_rows) override {
    LOOKALIKE_CHECK_ARG(items.images.defined() && items.images.numel() > 0,
                        "pipeline 'image' needs listings with images");
    if (!train_) {
      auto net_options = o_.model;
      if (net_options.in_channels <= 0) net_options.in_channels = items.images.size(1);
      torch::manual_seed(o_.seed);  // a network without weights: its initialisation
      auto net = models::make_net(net_options);
      embeddings_ = models::infer(net, items.images, 256, o_.device).embeddings;
      return;
    }
    // The class of each fit row: its group, or its value of an attribute column (codes by first
    // appearance); then numbered 0.. over the fit rows.
    torch::Tensor values;
    if (label_ == "group") {
      values = groups.index_select(0, fit_rows);
    } else {
      size_t a = 0;
      while (a < items.attr_names.size() && items.attr_names[a] != label_) ++a;
      LOOKALIKE_CHECK_ARG(a < items.attr_names.size(), "image.label '", label_,
                          "': expected 'group' or an attribute column (",
                          util::join_names(items.attr_names), ")");
      std::vector<std::string> column;
      auto rows = fit_rows.contiguous();
      for (int64_t i = 0; i < rows.numel(); ++i)
        column.push_back(items.attrs[a][static_cast<size_t>(rows.data_ptr<int64_t>()[i])]);
      data::LabelOptions by_value;
      by_value.empty = "own";  // a listing without a value is a class of its own
      values = data::encode_labels(column, by_value).codes;
    }
    auto labels = std::get<1>(at::_unique2(values, /*sorted=*/true, /*return_inverse=*/true));
    auto result = train::Trainer(o_).fit({items.images.index_select(0, fit_rows), labels});
    history_ = result.history;
    classes_ = labels.max().item<int64_t>() + 1;
    embeddings_ = models::infer(result.model, items.images, 1024, o_.device).embeddings;
  }
  std::pair<torch::Tensor, torch::Tensor> candidates(int64_t n) const override {
    return vector_candidates(embeddings_, how_, n);
  }
  torch::Tensor embeddings() const override { return embeddings_; }
  util::OptionsJson info() const override {
    if (!train_) return {{"trained", false}};
    return {{"history", history_json(history_)}, {"classes", classes_}, {"label", label_}};
  }

 private:
  train::TrainOptions o_;
  std::string label_;
  bool train_ = true;
  VectorSearch how_;
  torch::Tensor embeddings_;
  std::vector<util::Record> history_;
  int64_t classes_ = 0;
};
}  // namespace

static std::unique_ptr<CandidatePipeline> make_image_pipeline(const nlohmann::json& options) {
  nlohmann::json rest = options;
  auto how = take_vector_search(rest, "image");
  std::string label = "group";
  if (rest.contains("label")) {
    LOOKALIKE_CHECK_ARG(rest["label"].is_string(), "option 'image.label' must be a string");
    label = rest["label"].get<std::string>();
    rest.erase("label");
  }
  bool train = true;
  if (rest.contains("train")) {
    LOOKALIKE_CHECK_ARG(rest["train"].is_boolean(), "option 'image.train' must be true or false");
    train = rest["train"].get<bool>();
    rest.erase("train");
  }
  if (!train) {  // only the network's options (and the device) are read
    const auto net_names = util::option_names<models::NetOptions>();
    for (const auto& item : rest.items())
      LOOKALIKE_CHECK_ARG(
          item.key() == "device" || item.key() == "seed" || item.key() == "threads" ||
              std::find(net_names.begin(), net_names.end(), item.key()) != net_names.end(),
          "image.train false: option 'image.", item.key(),
          "' does not apply (only the network's options, seed, threads and device do)");
    LOOKALIKE_CHECK_ARG(label == "group", "image.train false: option 'image.label' does not apply");
  }
  train::TrainOptions o;
  util::options_update_flat(rest, o, "image");
  train::validate(o);
  return std::make_unique<ImagePipeline>(std::move(o), std::move(label), train, std::move(how));
}

LOOKALIKE_REGISTER(pipeline_registry(), "image", make_image_pipeline)

}  // namespace lookalike::dedup::detail
