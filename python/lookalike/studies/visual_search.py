"""Visual search on product photos with the metric-learning protocol: the classes are split, the
models never see the test classes, and the test classes' photos are searched among themselves
(P@1, R@k, R-precision, MAP@R). Several models side by side (random init, ImageNet-pretrained
frozen, fine-tuned, trained from scratch) and a loss table (one model fine-tuned with each loss:
same backbone, budget, sampler and seed). Grocery adds buyer-to-catalogue retrieval (each shop
photo searches the 81 catalogue images: accuracy@k for unseen and seen classes); any set can add
instance retrieval of simulated re-shot photos (dedup/relist.h) against their originals.

Everything computed here is a C++ call (reader, class split, Trainer, embedding, retrieval
metrics, photo simulator); this module orders the calls and collects the figures.
"""
from __future__ import annotations

import copy
import json
import time
from typing import Any, Dict, List, Optional, Tuple

import torch

from .. import _core, data, train
from .. import eval as ev
from .base import Output, Study, reshot
from .visual_search_report import plots_and_report

_TRAIN = _core.train.TrainOptions().to_dict()
NET_KEYS = list(_TRAIN["model"])
# The training options every trained model shares (one budget); the rest are per run or per model.
_PER_RUN = {"seed", "threads", "device", "checkpoint_dir", "resume", "log_path", "progress"}
SHARED_TRAIN = {k: v for k, v in train.default_options().items()
                if k not in NET_KEYS and k not in _TRAIN["filter"] and k not in _PER_RUN}
SHARED_TRAIN.update({"epochs": 8, "batch_size": 64, "lr": 1e-4, "sampler": "class_balanced",
                     "samples_per_class": 4, "augment": "flip", "loss": "multi_similarity",
                     "miner": "multi_similarity"})

PRETRAINED = "{pretrained}/mobilenet_v2_1.0_224_quant.tflite"
MODELS: List[Dict[str, Any]] = [
    {"name": "convnet_scratch", "net": {"backbone": "convnet", "channels": [32, 64, 128], "embedding_dim": 128},
     "train": {"lr": 1e-3}},
    {"name": "mobilenet_random", "net": {"backbone": "mobilenet_v2", "embedding_dim": 0,
                                         "normalization": "backbone"}, "train": None},
    {"name": "mobilenet_frozen", "net": {"backbone": "mobilenet_v2", "weights": PRETRAINED, "embedding_dim": 0},
     "train": None},
    {"name": "mobilenet_finetuned", "net": {"backbone": "mobilenet_v2", "weights": PRETRAINED, "embedding_dim": 0},
     "train": {"freeze_stages": 5}},
]

DEFAULTS: Dict[str, Any] = {
    "study": "visual_search",
    "name": "visual_search",
    "seed": 0,
    "threads": 0,
    "device": "cpu",
    "data": {
        "set": "grocery",          # an image set (lookalike.data.image_sets()): grocery | fashion_products | folder | csv
        "root": None,              # the set's folder (csv: the CSV file); null: the shared one
        "image_size": 128,
        "class_columns": [],       # csv, fashion_products (default articleType, baseColour)
        "path_column": "path",     # csv
        "image_root": None,        # csv
        "max_per_class": 0,        # 0: all images of a class
        "min_class_size": 2,       # a class needs a second image to be searched for
        "train_split": "train",    # grocery: the photos the models train on (train classes only)
        "test_split": "test",      # grocery: the photos searched (test classes; seen-class ones for the catalogue)
        "test_class_fraction": 0.5,
        "val_fraction": 0.1,       # of the training photos (stratified), validated after each epoch
    },
    "train": SHARED_TRAIN,
    "models": MODELS,              # each: name, net (NetOptions), train (overrides of `train`; null: not trained)
    "loss_table": {
        "enabled": True,
        "model": "mobilenet_finetuned",
        "losses": ["contrastive", "triplet", "multi_similarity", "normalized_softmax", "proxy_anchor",
                   "arcface", "cross_entropy"],
        "miners": {"triplet": "semi_hard", "multi_similarity": "multi_similarity"},
    },
    "catalogue": {"k": [1, 5]},    # grocery: shop photos -> catalogue images
    "instance": {"enabled": False, "k": [1, 10], "photo": {}},  # re-shot photo -> its original
    "eval": {"k": [1, 10], "batch_size": 64},
}

APPLIES = [
    (["data.train_split", "data.test_split", "catalogue.k"], lambda c: c["data"]["set"] == "grocery",
     "data.set is grocery"),
    (["loss_table.model", "loss_table.losses", "loss_table.miners"], lambda c: c["loss_table"]["enabled"],
     "loss_table.enabled"),
    (["instance.k", "instance.photo"], lambda c: c["instance"]["enabled"], "instance.enabled"),
]


def runs(cfg: Dict[str, Any]) -> List[Tuple[str, Dict[str, Any], Optional[Dict[str, Any]]]]:
    """(name, net options, training options or None) of every model and every loss-table row, each
    checked by the C++ option structs before anything runs."""
    out, names = [], set()
    for m in cfg["models"]:
        if not isinstance(m, dict) or set(m) - {"name", "net", "train"} or "name" not in m:
            raise ValueError(f"models: each entry needs name, net, train (null: not trained); got {m!r}")
        if m["name"] in names:
            raise ValueError(f"models: name {m['name']!r} is used twice")
        names.add(m["name"])
        net = dict(m.get("net") or {})  # weights "{pretrained}/<file>": resolved in C++
        if set(net) - set(NET_KEYS):
            raise ValueError(f"models.{m['name']}.net: unknown keys {sorted(set(net) - set(NET_KEYS))}; "
                             f"known: {NET_KEYS}")
        trained = None if m.get("train") is None else dict(cfg["train"], **m["train"])
        out.append((m["name"], net, trained))
    table = cfg["loss_table"]
    if table["enabled"]:
        base = {name: (net, tr) for name, net, tr in out}.get(table["model"])
        if base is None or base[1] is None:
            raise ValueError(f"loss_table.model {table['model']!r} must be a trained model of models: "
                             f"{sorted(n for n, _, t in out if t is not None)}")
        for loss in table["losses"]:
            miner = (table["miners"] or {}).get(loss, "none")
            out.append((f"loss:{loss}", base[0], dict(base[1], loss=loss, miner=miner)))
    for name, net, tr in out:
        if tr is not None:
            train.make_options(**net, **tr)  # unknown keys or bad values: an error now, not mid-run
        else:
            o = _core.train.NetOptions()
            o.update(net, f"models.{name}.net")
    return out


class Sets:
    """The photos of one run: train (train classes), val, test (test classes), and for grocery the
    seen-class test photos and the catalogue images; labels are the set's class ids except
    train/val, renumbered for the Trainer."""

    def __init__(self, cfg: Dict[str, Any]) -> None:
        d, seed = cfg["data"], cfg["seed"]
        common = {"image_size": d["image_size"], "max_per_class": d["max_per_class"],
                  "min_class_size": d["min_class_size"], "threads": cfg["threads"], "root": d["root"]}
        if d["set"] == "grocery":
            train_set = data.image_set("grocery", split=d["train_split"], **common)
            test_set = data.image_set("grocery", split=d["test_split"], **common)
            self.catalogue = data.image_set("grocery", split="iconic", image_size=d["image_size"],
                                            threads=cfg["threads"], root=d["root"])
            split = data.class_split(self.catalogue.labels, 1.0 - d["test_class_fraction"], seed)
        else:
            extra = {k: d[k] for k in ("class_columns", "path_column", "image_root")
                     if d[k] != DEFAULTS["data"][k]}
            train_set = test_set = data.image_set(d["set"], **common, **extra)
            self.catalogue = None
            split = data.class_split(train_set.labels, 1.0 - d["test_class_fraction"], seed)
        self.class_names = train_set.class_names
        self.train_classes, self.test_classes = split["first_classes"], split["second_classes"]
        idx, labels = data.select_classes(train_set.labels, self.train_classes)
        self.train = train_set.subset(idx)
        self.train.labels = labels
        self.val = None
        if d["val_fraction"] > 0:
            v, t = data.random_split(len(labels), d["val_fraction"], seed + 1, labels=labels)
            self.val, self.train = self.train.subset(v), self.train.subset(t)
        self.test = test_set.subset(data.select_classes(test_set.labels, self.test_classes)[0])
        self.seen = (test_set.subset(data.select_classes(test_set.labels, self.train_classes)[0])
                     if self.catalogue is not None else None)

    def sizes(self) -> Dict[str, int]:
        out = {"train": len(self.train), "val": len(self.val) if self.val else 0, "test": len(self.test),
               "train_classes": len(self.train_classes), "test_classes": len(self.test_classes)}
        if self.catalogue is not None:
            out.update(catalogue=len(self.catalogue), seen_class_test=len(self.seen))
        return out


def _instance_queries(sets: Sets, cfg: Dict[str, Any]) -> Tuple[torch.Tensor, torch.Tensor]:
    """One simulated re-shot photo of each test image (dedup/relist.h) and its source row."""
    return reshot(sets.test.images, cfg["instance"]["photo"], cfg["seed"] + 2, "instance")


def evaluate(model: train.Model, sets: Sets, cfg: Dict[str, Any], instance) -> Dict[str, Any]:
    """Retrieval among the test classes' photos; catalogue and instance retrieval when they apply."""
    e, dev = cfg["eval"], cfg["device"]
    emb = model.embed(sets.test.images, batch_size=e["batch_size"], device=dev)
    out: Dict[str, Any] = {"retrieval": ev.retrieval_metrics(emb, sets.test.labels, k=e["k"]),
                           "embedding_dim": int(emb.shape[1])}
    if sets.catalogue is not None:
        cat = model.embed(sets.catalogue.images, batch_size=e["batch_size"], device=dev)
        seen = model.embed(sets.seen.images, batch_size=e["batch_size"], device=dev)
        ks, only = cfg["catalogue"]["k"], ["recall_at_k"]
        out["catalogue_unseen"] = ev.retrieval_metrics(emb, sets.test.labels, cat, sets.catalogue.labels,
                                                       k=ks, metrics=only)
        out["catalogue_seen"] = ev.retrieval_metrics(seen, sets.seen.labels, cat, sets.catalogue.labels,
                                                     k=ks, metrics=only)
    if instance is not None:
        queries = model.embed(instance[0], batch_size=e["batch_size"], device=dev)
        out["instance"] = ev.retrieval_metrics(queries, instance[1], emb, torch.arange(len(sets.test)),
                                               k=cfg["instance"]["k"], metrics=["recall_at_k"])
    return out


class VisualSearch(Study):
    name = "visual_search"
    DEFAULTS = DEFAULTS
    APPLIES = APPLIES

    def check(self, cfg: Dict[str, Any]) -> None:
        runs(cfg)

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        plan = runs(cfg)
        with out.timed("load"):
            sets = Sets(cfg)
            instance = _instance_queries(sets, cfg) if cfg["instance"]["enabled"] else None
        results: Dict[str, Dict[str, Any]] = {}
        done: Dict[str, str] = {}  # the same options train once
        for name, net, tr in plan:
            key = json.dumps([net, tr], sort_keys=True)
            if key in done:
                results[name] = dict(copy.deepcopy(results[done[key]]), same_as=done[key])
                continue
            with out.timed(f"model_{name}"):
                results[name] = self._one(name, net, tr, sets, cfg, out, instance)
            done[key] = name
        report = {
            "metrics": {name: {k: v for k, v in r.items() if k not in ("history",)} for name, r in results.items()},
            "histories": {name: r["history"] for name, r in results.items() if r.get("history")},
            "sizes": sets.sizes(),
            "classes": {"train": [sets.class_names[int(c)] for c in sets.train_classes],
                        "test": [sets.class_names[int(c)] for c in sets.test_classes]},
        }
        plots_and_report(cfg, report, out)
        return report

    @staticmethod
    def _one(name, net, tr, sets: Sets, cfg, out: Output, instance) -> Dict[str, Any]:
        t = time.perf_counter()
        history: List[Dict[str, float]] = []
        if tr is None:
            model = train.network(**dict(net, in_channels=net.get("in_channels") or int(sets.test.images.shape[1])))
        else:
            val = (sets.val.images, sets.val.labels) if sets.val else None
            safe = name.replace(":", "_")
            r = train.fit(sets.train.images, sets.train.labels, val=val, **net, **tr, seed=cfg["seed"],
                          threads=cfg["threads"], device=cfg["device"], progress="off",
                          log_path=str(out.path(f"train_log_{safe}.jsonl")))
            model, history = r.model, r.history
        fit_s = time.perf_counter() - t
        result = evaluate(model, sets, cfg, instance)
        result.update(history=history, train_s=fit_s if tr is not None else 0.0,
                      parameters=model.num_parameters(), trained=tr is not None)
        return result
