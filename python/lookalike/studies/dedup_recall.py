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

from typing import Any, Dict, List, Optional

import torch

from .. import _core, dedup, index
from ..options import defaults
from .base import Output, Study
from .dedup_report import plots_and_report

_LISTINGS = defaults(_core.dedup.ListingsOptions)
# The reader's options a config may set for its own file (data.set: listings); their defaults are
# the C++ ListingsOptions'.
_LISTINGS_KEYS = [k for k in _LISTINGS if k not in ("id_prefix", "threads", "limit", "image_size")]

DEFAULTS: Dict[str, Any] = {
    "study": "dedup_recall",
    "name": "dedup",
    "seed": 0,
    "threads": 0,
    "data": {
        "set": "amazon_google",  # amazon_google | shopee_dev | fashion_products | listings
        "root": None,            # folder of a named set (default: ../shared/data/<set>)
        "limit": 0,              # first rows only (small runs)
        "image_size": _LISTINGS["image_size"],
        # set: listings — your own file: path, id_col, title_col, group_col, text_cols, image_col,
        # image_pattern, image_root, phash_col, attr_cols
        **{k: _LISTINGS[k] for k in _LISTINGS_KEYS},
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
    "matcher": {"enabled": True, "n": None, "l2": defaults(_core.dedup.MatcherOptions)["l2"], "numeric_attrs": ["price"],
                "from": None},
    # matcher_n: also cluster by the matcher over every listing's top matcher_n per pipeline (0: no)
    "clustering": {"enabled": True, "embedding": "text", "thresholds": [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
                   "matcher_n": 10},
    "report": {"gallery": 6, "histogram_features": ["cos_text", "cos_image", "title_jaccard", "phash_similarity",
                                                    "score_bm25"]},
}

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
    >>> m["ground_truth"]["pair_recall"]["union"]["10"]  # doctest: +SKIP
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


class _Run:
    """One run of the study: the steps share the listings, the split and the candidates."""

    def __init__(self, cfg: Dict[str, Any], out: Output) -> None:
        self.cfg, self.out = cfg, out
        self.seed = int(cfg["seed"])
        self.ns = sorted(int(n) for n in cfg["ns"])
        self.n_max = self.ns[-1]
        self.names: List[str] = list(cfg["pipelines"])
        if not self.names:
            raise ValueError("pipelines: name at least one of " + ", ".join(dedup.pipelines()))
        for name in self.names:
            if name not in dedup.PIPELINES:
                raise ValueError(f"unknown pipeline '{name}'; known: {dedup.pipelines()}")
        if cfg["baseline"] is not None and cfg["baseline"] not in self.names:
            raise ValueError(f"baseline '{cfg['baseline']}' is not among the pipelines {self.names}")
        self.report: Dict[str, Any] = {}
        self.matcher: Optional[dedup.Matcher] = None

    def split(self) -> None:
        """Train / calibration / test rows by group, and the query rows."""
        cfg, seed = self.cfg, self.seed
        with self.out.timed("load"):
            self.items = load(cfg)
        n, groups = len(self.items), self.items.groups
        self.truth = groups is not None
        if self.truth:
            train_rows, self.test_rows = dedup.split_groups(groups, float(cfg["split"]["test_fraction"]), seed)
            cal_frac = float(cfg["split"].get("calibration_fraction", 0))
            if cal_frac > 0:
                fit_i, cal_i = dedup.split_groups(groups[train_rows], cal_frac, seed + 1)
                self.fit_rows, self.cal_rows = train_rows[fit_i], train_rows[cal_i]
            else:
                self.fit_rows = self.cal_rows = train_rows
            self.queries = dedup.query_rows(groups, self.test_rows, int(cfg["queries"]), seed)
        else:
            # No ground truth (the seed's situation): a matcher trained elsewhere judges the
            # candidates; encoders learn from perturbed titles only; queries are any listings.
            if not (cfg["matcher"]["enabled"] and cfg["matcher"]["from"]):
                raise ValueError(f"'{self.items.source}' has no duplicate groups: give data.group_col, or "
                                 "matcher.from: <matcher.json of a study run with ground truth> so that the matcher "
                                 "judges the candidates")
            train_rows = self.fit_rows = self.test_rows = torch.arange(n)
            self.cal_rows = torch.arange(0)
            count = int(cfg["queries"])
            self.queries = self.test_rows
            if 0 < count < n:
                self.queries = self.test_rows[_core.data.random_split(n, count / n, seed, None)[0]]
        if self.n_max >= n:
            raise ValueError(f"ns: largest n ({self.n_max}) must be below the number of listings ({n})")
        self.report.update(data=self.items.summary(), ground_truth_available=self.truth, split={
            "train_items": int(train_rows.numel()), "encoder_items": int(self.fit_rows.numel()),
            "calibration_items": int(self.cal_rows.numel()), "test_items": int(self.test_rows.numel()),
            "queries": int(self.queries.numel())})

    def candidates(self) -> None:
        """Every pipeline's n_max candidates for every listing; the ground-truth comparison."""
        self.pipes: Dict[str, dedup.Pipeline] = {}
        self.cands: Dict[str, Any] = {}
        info: Dict[str, Any] = {}
        for name in self.names:
            with self.out.timed(name):
                opts = dict(self.cfg.get(name) or {})
                if name in ("text", "image"):
                    opts.setdefault("seed", self.seed)
                if name == "image":
                    opts.setdefault("threads", int(self.cfg["threads"]))
                p = dedup.make_pipeline(name, **opts).fit(self.items, self.fit_rows)
                self.pipes[name], self.cands[name] = p, p.candidates(self.n_max)
            info[name] = dict(p.info)
        self.report["pipelines"] = info
        self.cand_q = [self.cands[n][0][self.queries] for n in self.names]
        self.embeddings = {n: p.embeddings for n, p in self.pipes.items() if p.embeddings is not None}
        self.cmp = None
        if self.truth:
            groups = self.items.groups
            total = dedup.true_pairs(self.queries, groups)
            self.report["split"]["true_pairs"] = int(total)
            self.cmp = dedup.compare_pipelines(self.cand_q, [dedup.same_group(self.queries, c, groups)
                                                             for c in self.cand_q], self.queries, self.ns)
            self.report["ground_truth"] = dedup.summarise(self.cmp, self.names, int(total), self.cfg["baseline"] or "")

    def features(self, pairs: torch.Tensor):
        """Pair features (float64 [m, f]) and their names."""
        cand_scores = {n: self.cands[n] for n in self.names if n not in self.embeddings and n != "phash"}
        return dedup.pair_features(pairs, self.items, embeddings=self.embeddings, candidate_scores=cand_scores,
                                   numeric_attrs=self.cfg["matcher"]["numeric_attrs"])

    def fit_matcher(self) -> Dict[str, Any]:
        """Trained on the candidates of the calibration listings (groups the encoders never saw,
        so their scores look like test scores), threshold by F1 on them; or loaded (matcher.from)."""
        mcfg, lists = self.cfg["matcher"], [self.cands[n][0] for n in self.names]
        if mcfg["from"]:
            self.matcher = dedup.Matcher.load(mcfg["from"])
            _, feat_names = self.features(torch.zeros(0, 2, dtype=torch.int64))
            if feat_names != self.matcher.feature_names:
                raise ValueError(f"matcher.from '{mcfg['from']}' was trained on features {self.matcher.feature_names}; "
                                 f"this study computes {feat_names} (same pipelines and attribute columns needed)")
            return {"loaded_from": str(mcfg["from"])}
        pairs = dedup.candidate_pairs(self.cal_rows, lists, int(mcfg["n"] or self.n_max))
        x, feat_names = self.features(pairs)
        y = dedup.pair_labels(pairs, self.items.groups)
        if not 0 < int(y.sum()) < len(y):
            raise ValueError(f"matcher: the candidates of the {len(self.cal_rows)} calibration listings hold "
                             f"{int(y.sum())} true matches among {len(y)} pairs; it needs both kinds (more data, a "
                             "larger split.calibration_fraction, or matcher.enabled: false)")
        self.matcher = dedup.Matcher(l2=float(mcfg["l2"])).fit(x, y, feat_names)
        return {"train_pairs": int(len(pairs)), "train_positives": int(y.sum()),
                "train_choice": self.matcher.choose_threshold(x, y)}

    def judge(self) -> None:
        """The matcher's judgement of every query's candidates, and its quality where truth exists."""
        with self.out.timed("matcher"):
            info = self.fit_matcher()
            m = self.matcher
            m.save(self.out.path("matcher.json"))
            # Every query's candidates of every pipeline, judged once (a pair's features do not
            # depend on the pipeline that proposed it); each pipeline's mask marks its accepted ones.
            pairs = dedup.candidate_pairs(self.queries, [self.cands[n][0] for n in self.names], self.n_max)
            accepted = m.predict(self.features(pairs)[0])
            judged = [dedup.pairs_in(self.queries, self.cands[n][0], pairs[accepted]) for n in self.names]
            self.judged_cmp = dedup.compare_pipelines(self.cand_q, judged, self.queries, self.ns)
            self.report["matcher"] = {"features": m.feature_names, "weights": m.weights(), "intercept": m.intercept,
                                      "threshold": m.threshold, **info}
            if self.truth:  # its quality on the test candidates (all pipelines' top n_max, deduplicated)
                q = _core.eval.prf(accepted, dedup.pair_labels(pairs, self.items.groups))
                self.report["matcher"].update(
                    test_pairs=int(len(pairs)), test_positives=q["actual"], precision=q["precision"],
                    recall_of_candidates=q["recall"], f1=q["f1"],
                    recall_of_all_true_pairs=q["true_positives"] / max(1, self.report["split"]["true_pairs"]))
            self.report["by_matcher"] = dedup.summarise(self.judged_cmp, self.names, 0, self.cfg["baseline"] or "")

    def only_found(self):
        """Pairs only one pipeline finds (by ground truth, else by the matcher): feature values
        for the histograms and a seeded gallery of examples."""
        cmp = self.cmp or getattr(self, "judged_cmp", None)
        only_sets = cmp.only if cmp else []
        panels: Dict[str, Dict[str, List[float]]] = {}
        gallery: Dict[str, List[Dict[str, Any]]] = {}
        items, k = self.items, int(self.cfg["report"]["gallery"])
        for name, only in zip(self.names, only_sets):
            if len(only) == 0:
                continue
            x, fn = self.features(only)
            panels[f"only {name}"] = {f: x[:, fn.index(f)].tolist() for f in self.cfg["report"]["histogram_features"]
                                      if f in fn}
            pick = only[torch.randperm(len(only), generator=torch.Generator().manual_seed(self.seed))[:k]]
            gallery[name] = [{"query": items.ids[a], "match": items.ids[b], "query_title": items.titles[a],
                              "match_title": items.titles[b], "rows": [int(a), int(b)]} for a, b in pick.tolist()]
        self.report["only_found_by"] = {n: int(len(o)) for n, o in zip(self.names, only_sets)}
        self.report["gallery"] = gallery
        return panels, gallery

    def cluster(self) -> None:
        """Threshold clustering of the whole catalogue over the chosen embedding."""
        ccfg, groups, n = self.cfg["clustering"], self.items.groups, len(self.items)
        with self.out.timed("clustering"):
            x = self.embeddings[ccfg["embedding"]]
            sweep = []
            for th in ccfg["thresholds"]:
                cl = index.threshold_clusters(x, float(th))
                point = {"threshold": float(th), "clusters": cl.num_clusters, "reduction_ratio": cl.reduction_ratio}
                if self.truth:
                    point.update(calibration=dedup.cluster_scores(cl.labels, groups, self.cal_rows)
                                 if len(self.cal_rows) else None,
                                 test=dedup.cluster_scores(cl.labels, groups, self.test_rows))
                sweep.append(point)
            self.report["clustering"] = {"embedding": ccfg["embedding"], "sweep": sweep}
            if self.truth:
                best = max(sweep, key=lambda s: (s["calibration"] or s["test"])["mean_f1"])
                self.report["clustering"].update(
                    chosen_threshold=best["threshold"], test_mean_f1=best["test"]["mean_f1"],
                    reduction_ratio=best["reduction_ratio"],
                    best_test_mean_f1_any_threshold=max(s["test"]["mean_f1"] for s in sweep),
                    # every listing alone: the score of clustering nothing
                    singletons_test_mean_f1=dedup.cluster_scores(torch.arange(n), groups, self.test_rows)["mean_f1"],
                    true_reduction_ratio=n / self.report["data"]["groups"])

    def cluster_by_matcher(self) -> None:
        """Components of the candidate pairs (top matcher_n of every pipeline, every listing) that
        the matcher accepts."""
        n, top = len(self.items), int(self.cfg["clustering"]["matcher_n"])
        with self.out.timed("matcher_clustering"):
            pairs = dedup.candidate_pairs(torch.arange(n), [self.cands[p][0] for p in self.names], top)
            accepted = pairs[self.matcher.predict(self.features(pairs)[0])]
            labels = _core.dedup.groups_from_pairs(n, accepted)
            clusters = int(labels.max()) + 1
            mc: Dict[str, Any] = {"candidates_per_pipeline": top, "pairs_judged": int(len(pairs)),
                                  "pairs_accepted": int(len(accepted)), "clusters": clusters,
                                  "reduction_ratio": n / clusters}
            if self.truth:
                mc["test"] = dedup.cluster_scores(labels, self.items.groups, self.test_rows)
            self.report["matcher_clustering"] = mc

    def headline(self) -> Dict[str, Any]:
        """The flat metrics: pair recall (or matched pairs) per pipeline and n, matcher and clusters."""
        r = self.report
        if self.truth:
            m = {f"pair_recall@{n}_{k}": v[str(n)] for k, v in r["ground_truth"]["pair_recall"].items() for n in self.ns}
        else:
            m = {f"matched@{n}_{k}": v[str(n)] for k, v in r["by_matcher"]["found"].items() for n in self.ns}
        if "f1" in r.get("matcher", {}):
            m.update(matcher_precision=r["matcher"]["precision"], matcher_f1=r["matcher"]["f1"])
        if "test_mean_f1" in r.get("clustering", {}):
            m["cluster_test_mean_f1"] = r["clustering"]["test_mean_f1"]
        if "test" in r.get("matcher_clustering", {}):
            m["matcher_cluster_test_mean_f1"] = r["matcher_clustering"]["test"]["mean_f1"]
        return m


class DedupRecall(Study):
    name = "dedup_recall"
    DEFAULTS = DEFAULTS
    APPLIES = APPLIES

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        r = _Run(cfg, out)
        r.split()
        r.candidates()
        if cfg["matcher"]["enabled"]:
            r.judge()
        panels, gallery = r.only_found()
        clustering = cfg["clustering"]
        if clustering["enabled"] and clustering["embedding"] in r.embeddings:
            r.cluster()
        if clustering["enabled"] and r.matcher is not None and int(clustering["matcher_n"] or 0) > 0:
            r.cluster_by_matcher()
        r.report["metrics"] = r.headline()
        plots_and_report(cfg, r.report, r.items, r.names, panels, gallery, out)
        return r.report
