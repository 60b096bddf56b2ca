// The recall study's later steps: the pairs one pipeline alone finds, threshold clustering of
// the catalogue, clustering by the matcher, the headline metrics.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>

#include "lookalike/dedup/candidates.h"
#include "lookalike/dedup/cluster_scores.h"
#include "lookalike/dedup/ground_truth.h"
#include "lookalike/index/vector_index.h"
#include "recall_run.h"

namespace lookalike::dedup::detail {

namespace {
util::OptionsJson scores_json(const ClusterScores& s) {
  return {{"mean_f1", s.mean_f1},
          {"pair_precision", s.pair_precision},
          {"pair_recall", s.pair_recall},
          {"pair_f1", s.pair_f1}};
}
}  // namespace

bool RecallRun::clusters_embedding() const {
  return std::count(embedding_names_.begin(), embedding_names_.end(), o_.clustering.embedding) > 0;
}

void RecallRun::only_found() {
  // By ground truth, else by the matcher.
  const auto* cmp = truth_cmp_ ? &*truth_cmp_ : judged_cmp_ ? &*judged_cmp_ : nullptr;
  util::OptionsJson counts = util::OptionsJson::object();
  util::OptionsJson gallery = util::OptionsJson::object();
  result_.panels = util::OptionsJson::object();
  for (size_t p = 0; p < o_.pipelines.size(); ++p) {
    const auto& name = o_.pipelines[p];
    const torch::Tensor only = cmp ? cmp->only[p] : torch::zeros({0, 2}, torch::kLong);
    counts[name] = only.size(0);
    if (only.size(0) == 0) continue;
    auto [x, names] = features(only);
    util::OptionsJson panel = util::OptionsJson::object();
    for (const auto& f : o_.report.histogram_features) {
      auto it = std::find(names.begin(), names.end(), f);
      if (it == names.end()) continue;
      auto col = x.select(1, it - names.begin()).contiguous();
      panel[f] = std::vector<double>(col.data_ptr<double>(), col.data_ptr<double>() + col.numel());
    }
    result_.panels["only " + name] = panel;
    // A seeded draw of examples (the same draw as torch.randperm with a generator seeded so).
    auto gen = at::make_generator<at::CPUGeneratorImpl>(o_.seed);
    auto order = torch::randperm(only.size(0), gen, torch::kLong);
    auto pick = only.index({order.slice(0, 0, std::min<int64_t>(o_.report.gallery, only.size(0)))})
                    .contiguous();
    util::OptionsJson examples = util::OptionsJson::array();
    for (int64_t i = 0; i < pick.size(0); ++i) {
      const int64_t a = pick[i][0].item<int64_t>(), b = pick[i][1].item<int64_t>();
      examples.push_back({{"query", items_.ids[a]},
                          {"match", items_.ids[b]},
                          {"query_title", items_.titles[a]},
                          {"match_title", items_.titles[b]},
                          {"rows", {a, b}}});
    }
    gallery[name] = examples;
  }
  report()["only_found_by"] = counts;
  report()["gallery"] = gallery;
}

void RecallRun::cluster() {
  timed("clustering", [&] {
    const auto& co = o_.clustering;
    const auto it = std::find(embedding_names_.begin(), embedding_names_.end(), co.embedding);
    const auto& x = embeddings_[it - embedding_names_.begin()];
    util::OptionsJson sweep = util::OptionsJson::array();
    for (double th : co.thresholds) {
      const auto cl = index::threshold_clusters(x, static_cast<float>(th));
      util::OptionsJson point = {{"threshold", th},
                                 {"clusters", cl.sizes.numel()},
                                 {"reduction_ratio", cl.reduction_ratio}};
      if (truth_) {
        point["calibration"] = cal_rows_.numel() > 0
                                   ? scores_json(cluster_scores(cl.labels, groups_, cal_rows_))
                                   : util::OptionsJson(nullptr);
        point["test"] = scores_json(cluster_scores(cl.labels, groups_, test_rows_));
      }
      sweep.push_back(point);
    }
    util::OptionsJson out = {{"embedding", co.embedding}, {"sweep", sweep}};
    if (truth_ && !sweep.empty()) {
      // The threshold is chosen on the calibration groups (on the test groups without them).
      auto chosen_f1 = [](const util::OptionsJson& s) {
        return (s["calibration"].is_null() ? s["test"] : s["calibration"])["mean_f1"].get<double>();
      };
      size_t best = 0;
      double best_test = sweep[0]["test"]["mean_f1"].get<double>();
      for (size_t i = 1; i < sweep.size(); ++i) {
        if (chosen_f1(sweep[i]) > chosen_f1(sweep[best])) best = i;
        best_test = std::max(best_test, sweep[i]["test"]["mean_f1"].get<double>());
      }
      const int64_t n = items_.size();
      out["chosen_threshold"] = sweep[best]["threshold"];
      out["test_mean_f1"] = sweep[best]["test"]["mean_f1"];
      out["reduction_ratio"] = sweep[best]["reduction_ratio"];
      out["best_test_mean_f1_any_threshold"] = best_test;
      // every listing alone: the score of clustering nothing
      out["singletons_test_mean_f1"] =
          cluster_scores(torch::arange(n, torch::kLong), groups_, test_rows_).mean_f1;
      out["true_reduction_ratio"] = double(n) / double(group_sizes(groups_).groups);
    }
    report()["clustering"] = out;
  });
}

void RecallRun::cluster_by_matcher() {
  timed("matcher_clustering", [&] {
    const int64_t n = items_.size(), top = o_.clustering.matcher_n;
    auto pairs = candidate_pairs(torch::arange(n, torch::kLong), candidate_ids(), top);
    auto accepted = pairs.index({matcher_->predict(features(pairs).first)});
    auto labels = groups_from_pairs(n, accepted);
    const int64_t clusters = labels.max().item<int64_t>() + 1;
    util::OptionsJson mc = {{"candidates_per_pipeline", top},
                            {"pairs_judged", pairs.size(0)},
                            {"pairs_accepted", accepted.size(0)},
                            {"clusters", clusters},
                            {"reduction_ratio", double(n) / double(clusters)}};
    if (truth_) mc["test"] = scores_json(cluster_scores(labels, groups_, test_rows_));
    report()["matcher_clustering"] = mc;
  });
}

void RecallRun::headline() {
  auto& r = report();
  util::OptionsJson m = util::OptionsJson::object();
  const auto& view = truth_ ? r["ground_truth"]["pair_recall"] : r["by_matcher"]["found"];
  const std::string prefix = truth_ ? "pair_recall@" : "matched@";
  for (auto it = view.begin(); it != view.end(); ++it)
    for (int64_t n : ns_)
      m[prefix + std::to_string(n) + "_" + it.key()] = it.value()[std::to_string(n)];
  if (r.contains("matcher") && r["matcher"].contains("f1")) {
    m["matcher_precision"] = r["matcher"]["precision"];
    m["matcher_f1"] = r["matcher"]["f1"];
  }
  if (r.contains("clustering") && r["clustering"].contains("test_mean_f1"))
    m["cluster_test_mean_f1"] = r["clustering"]["test_mean_f1"];
  if (r.contains("matcher_clustering") && r["matcher_clustering"].contains("test"))
    m["matcher_cluster_test_mean_f1"] = r["matcher_clustering"]["test"]["mean_f1"];
  r["metrics"] = m;
}

}  // namespace lookalike::dedup::detail
