// The recall study's loop: options checks, split by group, candidates, the matcher.
#include "lookalike/dedup/recall_study.h"

#include <torch/torch.h>

#include <algorithm>

#include "lookalike/data/split.h"
#include "lookalike/dedup/candidates.h"
#include "lookalike/dedup/ground_truth.h"
#include "lookalike/error.h"
#include "lookalike/eval/prf.h"
#include "recall_run.h"

namespace lookalike::dedup {

namespace detail {

RecallRun::RecallRun(const Listings& items, const torch::Tensor& groups,
                     const RecallStudyOptions& options)
    : items_(items), truth_(groups.defined()), o_(options), ns_(options.ns) {
  LOOKALIKE_CHECK_ARG(!o_.pipelines.empty(), "pipelines: name at least one of ",
                      util::join_names(pipelines()));
  for (const auto& name : o_.pipelines)
    LOOKALIKE_CHECK_ARG(pipeline_registry().contains(name), "unknown pipeline '", name,
                        "'; known: ", util::join_names(pipelines()));
  LOOKALIKE_CHECK_ARG(
      o_.baseline.empty() || std::count(o_.pipelines.begin(), o_.pipelines.end(), o_.baseline) > 0,
      "baseline '", o_.baseline, "' is not among the pipelines ", util::join_names(o_.pipelines));
  LOOKALIKE_CHECK_ARG(!ns_.empty(), "ns: give at least one n");
  std::sort(ns_.begin(), ns_.end());
  LOOKALIKE_CHECK_ARG(ns_.front() >= 1, "ns: every n must be >= 1");
  n_max_ = ns_.back();
  if (truth_) {
    LOOKALIKE_CHECK_ARG(
        groups.dim() == 1 && groups.scalar_type() == torch::kLong && groups.size(0) == items.size(),
        "groups must be int64 [", items.size(), "]");
    groups_ = groups.contiguous();
  } else {
    groups_ = torch::arange(items.size(), torch::kLong);
  }
  report() = util::OptionsJson::object();
}

void RecallRun::split() {
  const int64_t n = items_.size();
  torch::Tensor train_rows;
  if (truth_) {
    std::tie(train_rows, test_rows_) = split_groups(groups_, o_.split.test_fraction, o_.seed);
    if (o_.split.calibration_fraction > 0) {
      auto [fit_i, cal_i] =
          split_groups(groups_.index({train_rows}), o_.split.calibration_fraction, o_.seed + 1);
      fit_rows_ = train_rows.index({fit_i});
      cal_rows_ = train_rows.index({cal_i});
    } else {
      fit_rows_ = cal_rows_ = train_rows;
    }
    queries_ = query_rows(groups_, test_rows_, o_.queries, o_.seed);
  } else {
    // No ground truth (the seed's situation): a matcher trained elsewhere judges the candidates;
    // encoders learn from perturbed titles only; queries are any listings.
    LOOKALIKE_CHECK_ARG(o_.matcher.enabled && !o_.matcher.from.empty(), "'", items_.source,
                        "' has no duplicate groups: give data.group_col, or matcher.from: "
                        "<matcher.json of a study run with ground truth> so that the matcher "
                        "judges the candidates");
    train_rows = fit_rows_ = test_rows_ = torch::arange(n, torch::kLong);
    cal_rows_ = torch::arange(0, torch::kLong);
    queries_ = test_rows_;
    if (o_.queries > 0 && o_.queries < n)
      queries_ =
          test_rows_.index({data::random_split(n, double(o_.queries) / double(n), o_.seed).first});
  }
  LOOKALIKE_CHECK_ARG(n_max_ < n, "ns: largest n (", n_max_,
                      ") must be below the number of listings (", n, ")");
  report()["ground_truth_available"] = truth_;
  report()["split"] = {{"train_items", train_rows.numel()},
                       {"encoder_items", fit_rows_.numel()},
                       {"calibration_items", cal_rows_.numel()},
                       {"test_items", test_rows_.numel()},
                       {"queries", queries_.numel()}};
}

void RecallRun::candidates(const nlohmann::json& pipeline_options) {
  LOOKALIKE_CHECK_ARG(pipeline_options.is_object() || pipeline_options.is_null(),
                      "pipeline options must be a mapping {pipeline: options}");
  util::OptionsJson info = util::OptionsJson::object();
  for (const auto& name : o_.pipelines) {
    timed(name, [&] {
      nlohmann::json opts = pipeline_options.is_object() && pipeline_options.contains(name)
                                ? pipeline_options.at(name)
                                : nlohmann::json::object();
      if (opts.is_null()) opts = nlohmann::json::object();
      // The learned pipelines take the study's seed (and image its threads) unless set.
      if ((name == "text" || name == "image") && opts.is_object() && !opts.contains("seed"))
        opts["seed"] = o_.seed;
      if (name == "image" && opts.is_object() && !opts.contains("threads"))
        opts["threads"] = o_.threads;
      auto p = make_pipeline(name, opts);
      p->fit(items_, groups_, fit_rows_);
      cands_.push_back(p->candidates(n_max_));
      auto emb = p->embeddings();
      if (emb.defined()) {
        embedding_names_.push_back(name);
        embeddings_.push_back(emb);
      }
      info[name] = p->info();
    });
  }
  report()["pipelines"] = info;
  for (const auto& c : cands_) cand_q_.push_back(c.first.index({queries_}));
  feature_inputs_.embedding_names = embedding_names_;
  feature_inputs_.embeddings = embeddings_;
  if (items_.phash.defined() && items_.phash.numel() > 0) feature_inputs_.phash = items_.phash;
  feature_inputs_.titles = items_.titles;
  feature_inputs_.attr_names = items_.attr_names;
  feature_inputs_.attrs = items_.attrs;
  for (const auto& a : items_.attr_names)
    feature_inputs_.numeric.push_back(
        std::count(o_.matcher.numeric_attrs.begin(), o_.matcher.numeric_attrs.end(), a) > 0);
  if (truth_) {
    const int64_t total = true_pairs(queries_, groups_);
    report()["split"]["true_pairs"] = total;
    std::vector<torch::Tensor> positive;
    for (const auto& c : cand_q_) positive.push_back(same_group(queries_, c, groups_));
    truth_cmp_ = compare_pipelines(cand_q_, positive, queries_, ns_);
    report()["ground_truth"] = summarise(*truth_cmp_, o_.pipelines, total, o_.baseline);
  }
}

std::vector<torch::Tensor> RecallRun::candidate_ids() const {
  std::vector<torch::Tensor> out;
  for (const auto& c : cands_) out.push_back(c.first);
  return out;
}

std::pair<torch::Tensor, std::vector<std::string>> RecallRun::features(
    const torch::Tensor& pairs) const {
  auto [x, names] = pair_features(pairs, feature_inputs_);
  std::vector<torch::Tensor> cols{x};
  for (size_t p = 0; p < o_.pipelines.size(); ++p) {
    const auto& name = o_.pipelines[p];
    const bool embeds = std::count(embedding_names_.begin(), embedding_names_.end(), name) > 0;
    if (embeds || name == "phash") continue;
    cols.push_back(lookup_scores(pairs, cands_[p].first, cands_[p].second, 0.0f)
                       .to(torch::kDouble)
                       .unsqueeze(1));
    names.push_back("score_" + name);
  }
  return {torch::cat(cols, 1), names};
}

util::OptionsJson RecallRun::fit_matcher(const std::vector<torch::Tensor>& lists) {
  const auto& mo = o_.matcher;
  if (!mo.from.empty()) {
    auto [m, names] = load_matcher(mo.from);
    const auto want = features(torch::zeros({0, 2}, torch::kLong)).second;
    LOOKALIKE_CHECK_ARG(names == want, "matcher.from '", mo.from, "' was trained on features ",
                        util::join_names(names), "; this study computes ", util::join_names(want),
                        " (same pipelines and attribute columns needed)");
    matcher_.emplace(std::move(m));
    matcher_features_ = names;
    return {{"loaded_from", mo.from}};
  }
  auto pairs = candidate_pairs(cal_rows_, lists, mo.n > 0 ? mo.n : n_max_);
  auto [x, names] = features(pairs);
  auto y = pair_labels(pairs, groups_);
  const int64_t positives = y.sum().item<int64_t>();
  LOOKALIKE_CHECK_ARG(positives > 0 && positives < y.size(0), "matcher: the candidates of the ",
                      cal_rows_.numel(), " calibration listings hold ", positives,
                      " true matches among ", y.size(0),
                      " pairs; it needs both kinds (more data, a larger "
                      "split.calibration_fraction, or matcher.enabled: false)");
  MatcherOptions options;
  options.l2 = mo.l2;
  matcher_.emplace(options);
  matcher_->fit(x, y);
  const auto choice = best_f1_threshold(matcher_->predict_proba(x), y);
  matcher_->set_threshold(choice.threshold);
  matcher_features_ = names;
  return {{"train_pairs", pairs.size(0)},
          {"train_positives", positives},
          {"train_choice",
           {{"threshold", choice.threshold},
            {"precision", choice.precision},
            {"recall", choice.recall},
            {"f1", choice.f1}}}};
}

void RecallRun::judge(const std::string& matcher_path) {
  timed("matcher", [&] {
    const auto lists = candidate_ids();
    const auto info = fit_matcher(lists);
    const auto& names = matcher_features_;
    if (!matcher_path.empty()) save_matcher(*matcher_, names, matcher_path);
    // Every query's candidates of every pipeline, judged once (a pair's features do not depend
    // on the pipeline that proposed it); each pipeline's mask marks its accepted ones.
    auto pairs = candidate_pairs(queries_, lists, n_max_);
    auto accepted = matcher_->predict(features(pairs).first);
    auto kept = pairs.index({accepted});
    std::vector<torch::Tensor> judged;
    for (const auto& ids : lists) judged.push_back(pairs_in(queries_, ids, kept));
    judged_cmp_ = compare_pipelines(cand_q_, judged, queries_, ns_);
    util::OptionsJson weights = util::OptionsJson::object();
    const auto coef = matcher_->coef().to(torch::kDouble).contiguous();
    for (size_t f = 0; f < names.size(); ++f) weights[names[f]] = coef[f].item<double>();
    util::OptionsJson m = {{"features", names},
                           {"weights", weights},
                           {"intercept", matcher_->intercept()},
                           {"threshold", matcher_->threshold()}};
    m.update(info);
    if (truth_) {  // its quality on the test candidates (all pipelines' top n_max, deduplicated)
      const auto q = eval::prf(accepted, pair_labels(pairs, groups_));
      const int64_t total = report()["split"]["true_pairs"].get<int64_t>();
      m["test_pairs"] = pairs.size(0);
      m["test_positives"] = q.actual;
      m["precision"] = q.precision;
      m["recall_of_candidates"] = q.recall;
      m["f1"] = q.f1;
      m["recall_of_all_true_pairs"] =
          double(q.true_positives) / double(std::max<int64_t>(1, total));
    }
    report()["matcher"] = m;
    report()["by_matcher"] = summarise(*judged_cmp_, o_.pipelines, 0, o_.baseline);
  });
}

}  // namespace detail

RecallStudyResult run_recall_study(const Listings& items, const torch::Tensor& groups,
                                   const RecallStudyOptions& options,
                                   const nlohmann::json& pipeline_options,
                                   const std::string& matcher_path) {
  detail::RecallRun run(items, groups, options);
  run.split();
  run.candidates(pipeline_options);
  if (options.matcher.enabled) run.judge(matcher_path);
  run.only_found();
  if (options.clustering.enabled && run.clusters_embedding()) run.cluster();
  if (options.clustering.enabled && run.has_matcher() && options.clustering.matcher_n > 0)
    run.cluster_by_matcher();
  run.headline();
  return run.take();
}

}  // namespace lookalike::dedup
