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

from typing import Any, Dict

from .. import _core, dedup, train
from ..options import defaults, make
from .base import Output, Study
from .dedup_report import plots_and_report

_LISTINGS = defaults(_core.dedup.ListingsOptions)
# The reader's options a config may set for its own file (data.set: listings); their defaults are
# the C++ ListingsOptions'.
_LISTINGS_KEYS = [k for k in _LISTINGS if k not in ("id_prefix", "threads", "limit", "image_size")]

# The study's own options are C++'s RecallStudyOptions (split, queries, ns, pipelines, baseline,
# matcher, clustering, report: see dedup/recall_study.h); the config adds the data section and one
# section of options per pipeline.
_STUDY = defaults(_core.dedup.RecallStudyOptions)

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
    **{k: v for k, v in _STUDY.items() if k not in ("seed", "threads")},
    # one section per pipeline: the options make_pipeline takes
    "bm25": defaults(_core.dedup.Bm25Options),
    "text": {**{k: v for k, v in defaults(_core.dedup.TextEncoderOptions, flat=True).items() if k not in ("seed", "device")},
             "dim": 256, "index": "Flat"},
    # the Trainer's options (any backbone, pretrained weights, fine-tuning, a metric loss), the class
    # each photo learns ("group" or an attribute column), or train: false (the network as loaded)
    "image": {**{k: v for k, v in train.default_options().items()
                 if k not in ("seed", "threads", "checkpoint_dir", "resume", "log_path")},
              "label": "group", "train": True, "epochs": 8, "batch_size": 64, "lr": 0.001,
              "channels": [32, 64, 128], "embedding_dim": 128, "augment": "flip", "index": "Flat",
              "progress": "off"},
    "phash": {},
}
_PIPELINE_SECTIONS = ("bm25", "text", "image", "phash")
_NET_KEYS = list(_core.train.TrainOptions().to_dict()["model"])
# image.train false reads the network's options only: every training option keeps its default.
_IMAGE_TRAINING = [k for k in DEFAULTS["image"] if k not in (*_NET_KEYS, "device", "index", "search", "train")]

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
    ([f"image.{k}" for k in _IMAGE_TRAINING], lambda c: c["image"]["train"], "image.train is true"),
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


def _section(cfg: Dict[str, Any], name: str) -> Dict[str, Any]:
    """A pipeline's options as make_pipeline takes them (image.train false: no training option)."""
    section = dict(cfg.get(name) or {})
    if name == "image" and not section.get("train", True):
        section = {k: v for k, v in section.items() if k not in _IMAGE_TRAINING}
    return section


class DedupRecall(Study):
    name = "dedup_recall"
    DEFAULTS = DEFAULTS
    APPLIES = APPLIES

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        with out.timed("load"):
            items = load(cfg)
        study = make(_core.dedup.RecallStudyOptions, {k: cfg[k] for k in _STUDY}, where="")
        done = _core.dedup.run_recall_study(
            dedup.to_core(items), items.groups, study,
            {name: _section(cfg, name) for name in cfg["pipelines"] if name in _PIPELINE_SECTIONS},
            str(out.path("matcher.json")) if cfg["matcher"]["enabled"] and not cfg["matcher"]["from"] else "")
        out.timings.update(done["timings"])
        report = {"data": items.summary(), **done["report"]}
        plots_and_report(cfg, report, items, list(cfg["pipelines"]), done["panels"], report["gallery"], out)
        return report
