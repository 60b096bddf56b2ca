"""Duplicate-product recall study (Coupang's study as a tool): every pipeline proposes n
candidates per query listing; true positives per pipeline (by ground truth and by the
matcher); recall@n per pipeline and of the union; pairwise overlap of the true-positive sets;
recall gain over the bm25 baseline; score histograms of the pairs only one pipeline finds; a
gallery of such pairs; threshold clustering of the whole catalogue with Shopee's mean F1.

Splits are by group (no test group is seen in training); queries are random test listings
that have at least one duplicate (seeded). Output: ``metrics.json`` (by the runner),
``report.md`` and PNG plots in the output folder.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List

import torch

from .. import _core, dedup, index, plot, results
from ..options import defaults

DEFAULTS: Dict[str, Any] = {
    "study": "dedup_recall",
    "name": "dedup",
    "seed": 0,
    "threads": 0,
    "data": {
        "set": "amazon_google",  # amazon_google | shopee_dev | fashion_products | listings
        "root": None,            # folder of a named set (default: ../shared/data/<set>)
        "limit": 0,              # first rows only (small runs)
        "image_size": 64,
        # set: listings — your own file:
        "path": None, "id_col": "id", "title_col": "title", "group_col": None, "text_cols": [],
        "image_col": None, "image_pattern": None, "image_root": None, "phash_col": None, "attr_cols": [],
        # fashion_products: simulated re-listings
        "relist": {"originals": 2000, "min_copies": 1, "max_copies": 3},
    },
    # test_fraction of the groups are held out for queries; calibration_fraction of the training
    # groups fit the matcher and choose thresholds (the encoders never see them).
    "split": {"test_fraction": 0.5, "calibration_fraction": 0.3},
    "queries": 0,                 # query listings drawn from the test groups; 0: all with a duplicate
    "ns": [1, 5, 10, 50],
    "pipelines": ["bm25", "text"],
    "baseline": "bm25",
    "bm25": defaults(_core.dedup.Bm25Options),
    "text": {**{k: v for k, v in defaults(_core.dedup.TextEncoderOptions, flat=True).items() if k not in ("seed", "device")},
             "dim": 256, "index": "Flat"},
    "image": {"label": "group", "epochs": 8, "batch_size": 64, "lr": 0.001, "channels": [32, 64, 128],
              "embedding_dim": 128, "augment": "flip", "index": "Flat", "progress": "off"},
    "phash": {},
    # n: candidates per calibration query the matcher learns from (null: the largest of ns, the
    # depth it judges at, so that it learns the same share of non-matches)
    # from: a matcher.json written by an earlier run (with ground truth) to judge candidates
    # here instead of fitting one; needed when the listings have no groups.
    "matcher": {"enabled": True, "n": None, "l2": 1.0, "numeric_attrs": ["price"], "from": None},
    # matcher_n: also cluster by the matcher over every listing's top matcher_n per pipeline (0: no)
    "clustering": {"enabled": True, "embedding": "text", "thresholds": [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
                   "matcher_n": 10},
    "report": {"gallery": 6, "histogram_features": ["cos_text", "cos_image", "title_jaccard", "phash_similarity",
                                                    "score_bm25"]},
}


_LISTINGS_KEYS = ("path", "id_col", "title_col", "group_col", "text_cols", "image_col", "image_pattern",
                  "image_root", "phash_col", "attr_cols")

# Options that only some variants read (found by reading run() and load() for every key): each
# is an error when set while the variant ignores it.
APPLIES = [
    ([f"data.{k}" for k in _LISTINGS_KEYS], lambda c: c["data"]["set"] == "listings", "data.set is listings"),
    (["data.root"], lambda c: c["data"]["set"] != "listings", "data.set names a shared set"),
    (["data.relist"], lambda c: c["data"]["set"] == "fashion_products", "data.set is fashion_products"),
    (["data.image_size"], lambda c: c["data"]["set"] == "fashion_products" or (
        c["data"]["set"] == "listings" and bool(c["data"]["image_col"] or c["data"]["image_pattern"])),
     "the listings have images (fashion_products, or listings with image_col / image_pattern)"),
    *[([name], lambda c, name=name: name in c["pipelines"], f"'{name}' is among the pipelines")
      for name in ("bm25", "text", "image", "phash")],
    (["matcher.n", "matcher.l2"], lambda c: c["matcher"]["enabled"] and not c["matcher"]["from"],
     "the matcher is fitted here (matcher.enabled, no matcher.from)"),
    (["matcher.numeric_attrs", "matcher.from"], lambda c: c["matcher"]["enabled"], "matcher.enabled"),
    (["clustering.embedding", "clustering.thresholds", "clustering.matcher_n"], lambda c: c["clustering"]["enabled"],
     "clustering.enabled"),
    (["clustering.matcher_n"], lambda c: c["matcher"]["enabled"], "matcher.enabled"),
]


class RecallStudy:
    """The study from a config file or dict, with ``--set``-style overrides:

    >>> m = RecallStudy("experiments/dedup_shopee.yaml", ["text.epochs=2"]).run("results/x")  # doctest: +SKIP
    >>> m["ground_truth"]["recall"]["union"]["10"]  # doctest: +SKIP
    """

    def __init__(self, config: Any = None, sets: Any = ()):
        self.config = config if config is not None else {"study": "dedup_recall"}
        self.sets = list(sets)

    def resolved(self) -> Dict[str, Any]:
        from .. import runner

        return runner.resolve(self.config, self.sets)

    def run(self, out: Any = None) -> Dict[str, Any]:
        """Runs it; writes metrics.json, report.md and the plots to ``out`` (default
        results/<name>/). Returns the metrics."""
        from .. import runner

        return runner.run(self.config, self.sets, out=str(out) if out else None)


def load(cfg: Dict[str, Any]) -> dedup.Listings:
    d = cfg["data"]
    if d["set"] == "listings":
        if not d.get("path"):
            raise ValueError("data.set = listings needs data.path (and data.group_col for ground truth)")
        keys = ("id_col", "title_col", "group_col", "text_cols", "image_col", "image_pattern", "image_root",
                "phash_col", "attr_cols", "limit", "image_size")
        return dedup.listings(d["path"], threads=cfg["threads"], **{k: d[k] for k in keys})
    return dedup.load_set(d["set"], d.get("root"), limit=int(d["limit"]), image_size=int(d["image_size"]),
                          relist=d.get("relist"), seed=int(cfg["seed"]), threads=int(cfg["threads"]))


def _queries(items: dedup.Listings, test_rows: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    sizes = torch.bincount(items.groups)
    eligible = test_rows[sizes[items.groups[test_rows]] > 1]
    if eligible.numel() == 0:
        raise ValueError("no test listing has a duplicate: the study needs groups of two or more listings")
    if 0 < count < eligible.numel():
        pick, _ = _core.data.random_split(int(eligible.numel()), count / eligible.numel(), seed, None)
        eligible = eligible[pick]
    return eligible


def _candidate_pairs(rows: torch.Tensor, cands: Dict[str, torch.Tensor], n: int) -> torch.Tensor:
    """Unique (row, candidate) pairs from each pipeline's top n of the given rows."""
    parts = []
    for ids in cands.values():
        c = ids[rows, :n]
        q = rows.unsqueeze(1).expand_as(c)
        keep = c >= 0
        parts.append(torch.stack([q[keep], c[keep]], 1))
    return torch.unique(torch.cat(parts), dim=0)


def run(cfg: Dict[str, Any], out_dir: Path) -> Dict[str, Any]:
    seed = int(cfg["seed"])
    ns = sorted(int(n) for n in cfg["ns"])
    n_max = ns[-1]
    names: List[str] = list(cfg["pipelines"])
    if not names:
        raise ValueError("pipelines: name at least one of " + ", ".join(dedup.PIPELINES))
    for name in names:
        if name not in dedup.PIPELINES:
            raise ValueError(f"unknown pipeline '{name}'; known: {sorted(dedup.PIPELINES)}")
    if cfg["baseline"] is not None and cfg["baseline"] not in names:
        raise ValueError(f"baseline '{cfg['baseline']}' is not among the pipelines {names}")
    mcfg = cfg["matcher"]
    timings: Dict[str, float] = {}
    t0 = time.perf_counter()
    items = load(cfg)
    timings["load_s"] = time.perf_counter() - t0
    n_items = len(items)
    groups = items.groups
    truth = groups is not None
    if truth:
        train_rows, test_rows = dedup.split_groups(groups, float(cfg["split"]["test_fraction"]), seed)
        cal_frac = float(cfg["split"].get("calibration_fraction", 0))
        if cal_frac > 0:
            fit_i, cal_i = dedup.split_groups(groups[train_rows], cal_frac, seed + 1)
            fit_rows, cal_rows = train_rows[fit_i], train_rows[cal_i]
        else:
            fit_rows = cal_rows = train_rows
        queries = _queries(items, test_rows, int(cfg["queries"]), seed)
    else:
        # No ground truth (the seed's situation): a matcher trained elsewhere judges the
        # candidates; encoders learn from perturbed titles only; queries are any listings.
        if not (mcfg.get("enabled", True) and mcfg.get("from")):
            raise ValueError(f"'{items.source}' has no duplicate groups: give data.group_col, or matcher.from: "
                             "<matcher.json of a study run with ground truth> so that the matcher judges the "
                             "candidates")
        train_rows = fit_rows = test_rows = torch.arange(n_items)
        cal_rows = torch.arange(0)
        count = int(cfg["queries"])
        queries = test_rows
        if 0 < count < n_items:
            queries = test_rows[_core.data.random_split(n_items, count / n_items, seed, None)[0]]

    if n_max >= n_items:
        raise ValueError(f"ns: largest n ({n_max}) must be below the number of listings ({n_items})")

    # Candidates of every pipeline for every listing.
    pipes: Dict[str, dedup.Pipeline] = {}
    cands: Dict[str, Any] = {}
    info: Dict[str, Any] = {}
    for name in names:
        t = time.perf_counter()
        opts = dict(cfg.get(name) or {})
        if name == "text":
            opts.setdefault("seed", seed)
        if name == "image":
            opts.setdefault("seed", seed)
            opts.setdefault("threads", int(cfg["threads"]))
        p = dedup.make_pipeline(name, **opts).fit(items, fit_rows)
        ids, scores = p.candidates(n_max)
        pipes[name], cands[name] = p, (ids, scores)
        timings[f"{name}_s"] = time.perf_counter() - t
        info[name] = dict(p.info)

    cand_q = [cands[n][0][queries] for n in names]
    report: Dict[str, Any] = {"data": items.summary(), "ground_truth_available": truth, "split": {
        "train_items": int(train_rows.numel()), "encoder_items": int(fit_rows.numel()),
        "calibration_items": int(cal_rows.numel()), "test_items": int(test_rows.numel()),
        "queries": int(queries.numel())}, "pipelines": info}
    cmp = None
    if truth:
        total = dedup.true_pairs(queries, groups)
        report["split"]["true_pairs"] = int(total)
        cmp = dedup.compare_pipelines(cand_q, [dedup.same_group(queries, c, groups) for c in cand_q], queries, ns)
        report["ground_truth"] = _summarise(names, cmp, total, cfg["baseline"])

    # Matcher: trained on the candidates of the calibration listings (groups the encoders never
    # saw, so their scores look like test scores; a candidate outside the query's group is a
    # non-match whatever its split), threshold by F1 on them; or loaded (matcher.from).
    embeddings = {n: p.embeddings for n, p in pipes.items() if p.embeddings is not None}
    cand_scores = {n: cands[n] for n in names if n not in embeddings and n != "phash"}

    def feats(pairs: torch.Tensor):
        return dedup.pair_features(pairs, items, embeddings=embeddings, candidate_scores=cand_scores,
                                   numeric_attrs=mcfg.get("numeric_attrs", ()))

    judged_cmp = None
    if mcfg.get("enabled", True):
        t = time.perf_counter()
        if mcfg.get("from"):
            matcher = dedup.Matcher.load(mcfg["from"])
            _, feat_names = feats(torch.zeros(0, 2, dtype=torch.int64))
            if feat_names != matcher.feature_names:
                raise ValueError(f"matcher.from '{mcfg['from']}' was trained on features {matcher.feature_names}; "
                                 f"this study computes {feat_names} (same pipelines and attribute columns needed)")
            m_info: Dict[str, Any] = {"loaded_from": str(mcfg["from"])}
        else:
            tr_pairs = _candidate_pairs(cal_rows, {n: cands[n][0] for n in names}, int(mcfg.get("n") or n_max))
            x_tr, feat_names = feats(tr_pairs)
            y_tr = groups[tr_pairs[:, 0]] == groups[tr_pairs[:, 1]]
            if not 0 < int(y_tr.sum()) < len(y_tr):
                raise ValueError(f"matcher: the candidates of the {len(cal_rows)} calibration listings hold "
                                 f"{int(y_tr.sum())} true matches among {len(y_tr)} pairs; it needs both kinds (more "
                                 "data, a larger split.calibration_fraction, or matcher.enabled: false)")
            matcher = dedup.Matcher(l2=float(mcfg["l2"])).fit(x_tr, y_tr, feat_names)
            m_info = {"train_pairs": int(len(tr_pairs)), "train_positives": int(y_tr.sum()),
                      "train_choice": matcher.choose_threshold(x_tr, y_tr)}
        matcher.save(out_dir / "matcher.json")
        judged = []
        for c in cand_q:
            q = queries.unsqueeze(1).expand_as(c)
            valid = c >= 0
            mask = torch.zeros_like(c, dtype=torch.bool)
            if bool(valid.any()):
                mask[valid] = matcher.predict(feats(torch.stack([q[valid], c[valid]], 1))[0])
            judged.append(mask)
        judged_cmp = dedup.compare_pipelines(cand_q, judged, queries, ns)
        report["matcher"] = {"features": matcher.feature_names, "weights": matcher.weights(),
                             "intercept": matcher.intercept, "threshold": matcher.threshold, **m_info}
        if truth:  # its quality on the test candidates (all pipelines' top n_max, deduplicated)
            te_pairs = _candidate_pairs(queries, {n: cands[n][0] for n in names}, n_max)
            te_pred = matcher.predict(feats(te_pairs)[0])
            te_true = groups[te_pairs[:, 0]] == groups[te_pairs[:, 1]]
            tp = int((te_pred & te_true).sum())
            p_, r_ = tp / max(1, int(te_pred.sum())), tp / max(1, int(te_true.sum()))
            report["matcher"].update(test_pairs=int(len(te_pairs)), test_positives=int(te_true.sum()), precision=p_,
                                     recall_of_candidates=r_, recall_of_all_true_pairs=tp / max(1, report["split"]["true_pairs"]),
                                     f1=2 * p_ * r_ / (p_ + r_) if p_ + r_ else 0.0)
        report["by_matcher"] = _summarise(names, judged_cmp, None, cfg["baseline"])
        timings["matcher_s"] = time.perf_counter() - t

    # Pairs only one pipeline finds (by ground truth, else by the matcher): scores and examples.
    only_sets = (cmp or judged_cmp).only if (cmp or judged_cmp) else []
    panels: Dict[str, Dict[str, List[float]]] = {}
    gallery: Dict[str, List[Dict[str, Any]]] = {}
    for name, only in zip(names, only_sets):
        if len(only) == 0:
            continue
        x, fn = feats(only)
        panels[f"only {name}"] = {f: x[:, fn.index(f)].tolist() for f in cfg["report"]["histogram_features"] if f in fn}
        k = int(cfg["report"]["gallery"])
        pick = only[torch.randperm(len(only), generator=torch.Generator().manual_seed(seed))[:k]]
        gallery[name] = [{"query": items.ids[a], "match": items.ids[b], "query_title": items.titles[a],
                          "match_title": items.titles[b], "rows": [int(a), int(b)]} for a, b in pick.tolist()]
    report["only_found_by"] = {n: int(len(o)) for n, o in zip(names, only_sets)}
    report["gallery"] = gallery

    # Threshold clustering of the whole catalogue.
    ccfg = cfg["clustering"]
    if ccfg.get("enabled", True) and ccfg.get("embedding") in embeddings:
        t = time.perf_counter()
        x = embeddings[ccfg["embedding"]]
        sweep = []
        for th in ccfg["thresholds"]:
            cl = index.threshold_clusters(x, float(th))
            point = {"threshold": float(th), "clusters": cl.num_clusters, "reduction_ratio": cl.reduction_ratio}
            if truth:
                point.update(calibration=dedup.cluster_scores(cl.labels, groups, cal_rows) if len(cal_rows) else None,
                             test=dedup.cluster_scores(cl.labels, groups, test_rows))
            sweep.append(point)
        report["clustering"] = {"embedding": ccfg["embedding"], "sweep": sweep}
        if truth:
            best = max(sweep, key=lambda s: (s["calibration"] or s["test"])["mean_f1"])
            report["clustering"].update(
                chosen_threshold=best["threshold"], test_mean_f1=best["test"]["mean_f1"],
                reduction_ratio=best["reduction_ratio"],
                best_test_mean_f1_any_threshold=max(s["test"]["mean_f1"] for s in sweep),
                # every listing alone: the score of clustering nothing
                singletons_test_mean_f1=dedup.cluster_scores(torch.arange(n_items), groups, test_rows)["mean_f1"],
                true_reduction_ratio=n_items / int(torch.unique(groups).numel()))
        timings["clustering_s"] = time.perf_counter() - t
    # Clustering by the matcher: components of the candidate pairs (top matcher_n of every
    # pipeline, every listing) that it accepts.
    if ccfg.get("enabled", True) and "matcher" in report and int(ccfg.get("matcher_n") or 0) > 0:
        t = time.perf_counter()
        pairs = _candidate_pairs(torch.arange(n_items), {n: cands[n][0] for n in names}, int(ccfg["matcher_n"]))
        accepted = pairs[matcher.predict(feats(pairs)[0])]
        labels = _core.dedup.groups_from_pairs(n_items, accepted)
        mc: Dict[str, Any] = {"candidates_per_pipeline": int(ccfg["matcher_n"]), "pairs_judged": int(len(pairs)),
                              "pairs_accepted": int(len(accepted)), "clusters": int(labels.max()) + 1,
                              "reduction_ratio": n_items / (int(labels.max()) + 1)}
        if truth:
            mc["test"] = dedup.cluster_scores(labels, groups, test_rows)
        report["matcher_clustering"] = mc
        timings["matcher_clustering_s"] = time.perf_counter() - t
    report["timings"] = timings
    if truth:
        report["metrics"] = {f"recall@{n}_{k}": v[str(n)] for k, v in report["ground_truth"]["recall"].items() for n in ns}
    else:
        report["metrics"] = {f"matched@{n}_{k}": v[str(n)] for k, v in report["by_matcher"]["found"].items() for n in ns}
    if "f1" in report.get("matcher", {}):
        report["metrics"].update(matcher_precision=report["matcher"]["precision"], matcher_f1=report["matcher"]["f1"])
    if "test_mean_f1" in report.get("clustering", {}):
        report["metrics"]["cluster_test_mean_f1"] = report["clustering"]["test_mean_f1"]
    if "test" in report.get("matcher_clustering", {}):
        report["metrics"]["matcher_cluster_test_mean_f1"] = report["matcher_clustering"]["test"]["mean_f1"]
    _plots_and_report(cfg, report, items, names, panels, gallery, out_dir)
    return report


def _summarise(names: List[str], cmp: Any, total: Any, baseline: str) -> Dict[str, Any]:
    """recall@n (found / total true pairs) per pipeline and union, overlap shares, gain over the
    baseline, Venn regions. Without a total (matcher judgements), counts replace recall."""
    ns = list(cmp.ns)
    out: Dict[str, Any] = {"found": {n: dict(zip(map(str, ns), cmp.found[i])) for i, n in enumerate(names)}}
    out["found"]["union"] = dict(zip(map(str, ns), cmp.union_found))
    if total:
        out["recall"] = {k: {n: c / total for n, c in v.items()} for k, v in out["found"].items()}
    key = "recall" if total else "found"
    if baseline in names:
        b = out[key][baseline]
        out["gain_over_" + baseline] = {k: {n: v[n] - b[n] for n in v} for k, v in out[key].items() if k != baseline}
        if total:
            out["relative_gain_over_" + baseline] = {k: {n: (v[n] / b[n] - 1) if b[n] else None for n in v}
                                                     for k, v in out[key].items() if k != baseline}
    found_max = [cmp.found[i][-1] for i in range(len(names))]
    out["overlap_at_n"] = ns[-1]
    out["overlap_pairs"] = {a: {b: cmp.overlap[i][j] for j, b in enumerate(names)} for i, a in enumerate(names)}
    out["overlap_share"] = {a: {b: (cmp.overlap[i][j] / found_max[i]) if found_max[i] else None for j, b in enumerate(names)}
                            for i, a in enumerate(names)}
    out["venn"] = {"&".join(n for p, n in enumerate(names) if m >> p & 1): c for m, c in enumerate(cmp.venn) if m and c}
    return out


def _plots_and_report(cfg, report, items, names, panels, gallery, out_dir: Path) -> None:
    truth = report["ground_truth_available"]
    view = report["ground_truth"] if truth else report["by_matcher"]
    what = "true positives" if truth else "pairs the matcher accepts"
    at = view["overlap_at_n"]
    figs = {"recall_at_n.png": plot.recall_at_n(view["recall"], f"{cfg['name']}: recall@n (ground truth)") if truth else
            plot.recall_at_n(view["found"], f"{cfg['name']}: pairs the matcher accepts", ylabel="matched pairs")}
    share = [[view["overlap_share"][a][b] or 0.0 for b in names] for a in names]
    figs["overlap.png"] = plot.overlap_matrix(names, share, f"share of row's {what} also found (n={at})")
    figs["venn.png"] = plot.venn(names, view["venn"], f"{what} at n={at}")
    if panels:
        figs["only_scores.png"] = plot.score_histograms(panels, f"scores of {what} one pipeline alone finds")
    if items.images is not None and gallery:
        pairs, caps = [], []
        for name, ex in gallery.items():
            for e in ex[:3]:
                pairs.append(tuple(e["rows"]))
                caps.append(f"only {name}: {e['query_title'][:38]} | {e['match_title'][:38]}")
        figs["gallery.png"] = plot.image_pairs(items.images, pairs, caps, f"{what} one pipeline alone finds")
    import matplotlib.pyplot as plt

    for fname, fig in figs.items():
        results.save_figure(fig, out_dir / fname)
        plt.close(fig)  # a study writes its plots; keeping them open only holds memory
    _write_report(cfg, report, names, list(figs), out_dir)


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(rows: Dict[str, Dict[str, Any]], ns: List[str], fmt=_fmt) -> List[str]:
    out = ["| pipeline | " + " | ".join(f"@{n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    return out + [f"| {k} | " + " | ".join(fmt(v[n]) for n in ns) + " |" for k, v in rows.items()]


def _comparison(view: Dict[str, Any], names: List[str], baseline: str, key: str, what: str) -> List[str]:
    ns = list(view[key][names[0]])
    lines = _table(view[key], ns)
    gain = view.get("gain_over_" + baseline)
    if gain:
        unit = "recall points" if key == "recall" else "pairs"
        lines += ["", f"Gain over {baseline} ({unit}):", ""] + _table(
            gain, ns, lambda v: f"{v:+.3f}" if isinstance(v, float) else f"{v:+d}")
    lines += ["", f"Overlap at n={view['overlap_at_n']} (share of the row's {what} also found by the column):", "",
              "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {a} | " + " | ".join(_fmt(view["overlap_share"][a][b]) for b in names) + " |" for a in names]
    return lines + ["", "Found by exactly: " + ", ".join(f"{k}: {v}" for k, v in view["venn"].items())]


def _write_report(cfg, report, names, figures, out_dir: Path) -> None:
    truth = report["ground_truth_available"]
    d, sp = report["data"], report["split"]
    lines = [f"# Duplicate recall study: {cfg['name']}", "",
             f"Data: {d['source']} — {d['items']} listings" +
             (f", {d.get('groups')} groups ({d.get('groups_with_duplicates')} with duplicates)" if truth else
              ", **no ground truth**: the matcher judges the candidates") +
             (" — **groups are SIMULATED re-listings**" if d["simulated_groups"] else ""),
             f"Skipped rows: {d['skipped'] or 'none'}; repaired non-UTF-8 cells: {d['repaired_utf8_cells']}."]
    if truth:
        lines += [f"Split by group: {sp['train_items']} train ({sp['encoder_items']} fit the encoders, "
                  f"{sp['calibration_items']} calibrate matcher and thresholds) / {sp['test_items']} test listings; "
                  f"{sp['queries']} queries, {sp['true_pairs']} true pairs to find. Seed {cfg['seed']}.",
                  "", "## Recall@n (ground truth)", ""]
        lines += _comparison(report["ground_truth"], names, cfg["baseline"], "recall", "true positives")
    else:
        lines += [f"{sp['queries']} queries. Seed {cfg['seed']}."]
    if "matcher" in report:
        m = report["matcher"]
        lines += ["", "## Matcher", ""]
        if "loaded_from" in m:
            lines.append(f"Loaded from `{m['loaded_from']}`, threshold {m['threshold']:.3f}.")
        else:
            lines.append(f"Logistic regression on {m['train_pairs']} calibration candidate pairs ({m['train_positives']} "
                         f"matches), threshold {m['threshold']:.3f} (best F1 on those pairs); saved to matcher.json.")
        if "f1" in m:
            lines.append(f"On the test candidates: precision {m['precision']:.3f}, recall {m['recall_of_candidates']:.3f}, "
                         f"F1 {m['f1']:.3f}.")
        lines += ["", "Pairs the matcher accepts, per pipeline and n:", ""]
        lines += _comparison(report["by_matcher"], names, cfg["baseline"], "found", "accepted pairs")
    if "clustering" in report:
        c = report["clustering"]
        lines += ["", "## Threshold clustering", ""]
        if truth:
            lines += [f"Embedding `{c['embedding']}`; threshold {c['chosen_threshold']} chosen by calibration-item mean F1; "
                      f"test mean F1 **{c['test_mean_f1']:.3f}** (every listing alone scores {c['singletons_test_mean_f1']:.3f}), "
                      f"reduction ratio {c['reduction_ratio']:.2f} (true {c['true_reduction_ratio']:.2f}).", "",
                      "| threshold | clusters | reduction | calibration F1 | test F1 | test pair P | test pair R |",
                      "|---|---|---|---|---|---|---|"]
            for s in c["sweep"]:
                cal = _fmt(s["calibration"]["mean_f1"]) if s["calibration"] else "–"
                lines.append(f"| {s['threshold']} | {s['clusters']} | {s['reduction_ratio']:.2f} | {cal} | "
                             f"{s['test']['mean_f1']:.3f} | {s['test']['pair_precision']:.3f} | {s['test']['pair_recall']:.3f} |")
        else:
            lines += [f"Embedding `{c['embedding']}` (no ground truth: sizes only).", "", "| threshold | clusters | reduction |",
                      "|---|---|---|"] + [f"| {s['threshold']} | {s['clusters']} | {s['reduction_ratio']:.2f} |" for s in c["sweep"]]
    if "matcher_clustering" in report:
        mc = report["matcher_clustering"]
        lines += ["", f"Clustering by the matcher (components of the accepted pairs among every listing's top "
                      f"{mc['candidates_per_pipeline']} per pipeline): {mc['clusters']} clusters, reduction ratio "
                      f"{mc['reduction_ratio']:.2f}" + (f"; test mean F1 **{mc['test']['mean_f1']:.3f}**, pair precision "
                      f"{mc['test']['pair_precision']:.3f}, pair recall {mc['test']['pair_recall']:.3f}." if "test" in mc else ".")]
    if report["gallery"]:
        lines += ["", "## Pairs one pipeline alone finds (examples)", ""]
        for name, ex in report["gallery"].items():
            lines.append(f"**only {name}** ({report['only_found_by'][name]} pairs):")
            lines += [f"- `{e['query_title'][:90]}` ↔ `{e['match_title'][:90]}`" for e in ex]
            lines.append("")
    lines += [""] + [f"![{f}]({f})" for f in figures] + [""]
    _core.write_file_atomic(str(out_dir / "report.md"), "\n".join(lines).encode("utf-8"))
