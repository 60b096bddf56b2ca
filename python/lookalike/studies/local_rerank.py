"""Local matching with geometric verification as a re-ranking step: each query photo searches the
reference photos with a global embedding (a visual-search backbone), and its top-K candidates are
verified with local features (matched, then a homography/affine fitted by RANSAC) and re-ranked
by inliers or by a fusion of the global score and the inliers. Reported before and after, overall
and per family of products (on grocery: printed packages vs fruit vs vegetables, the case for
and against local features), for the training photos as references and for the catalogue images.

Every figure is a C++ call (reader, network, kNN, local features, verification, re-ranking,
ranked retrieval metrics); this module orders the calls and collects the figures.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

import torch

from .. import _core, data, local, localise, train
from .. import eval as ev
from .base import Output, Study, reshot
from .local_rerank_report import plots_and_report

PRETRAINED = "{pretrained}/mobilenet_v2_1.0_224_quant.tflite"

DEFAULTS: Dict[str, Any] = {
    "study": "local_rerank",
    "name": "local_rerank",
    "seed": 0,
    "threads": 0,
    "device": "cpu",
    "data": {
        "set": "grocery",          # grocery | folder | csv (an image set of lookalike.data.image_sets())
        "root": None,              # the set's folder (csv: the CSV file); null: the shared one
        "image_size": 348,         # the side photos are read at (grocery's own); local features see it
        "class_columns": [],       # csv
        "path_column": "path",     # csv
        "image_root": None,        # csv
        "max_per_class": 0,        # 0: all photos of a class (per split)
        "query_split": "test",     # grocery: the query photos
        "reference_split": "train",  # grocery: the reference photos searched
        "query_fraction": 0.3,     # folder, csv, fashion_products: photos of each class held out as queries
        # fashion_products, folder, csv: instead of held-out photos, each query is a simulated re-shot copy
        # (dedup/relist.h: crop, rotation, colour, blur, JPEG) of a query_fraction of the photos, searching
        # all of them for its original (instance retrieval: one relevant reference per query)
        "reshot": False,
        "reshot_photo": {},        # PhotoNoise options of the re-shot simulation
        "catalogue": True,         # grocery: also search the 81 catalogue ("iconic") images
    },
    # The global model: every NetOptions field (these defaults: the ImageNet MobileNetV2 at 224, its
    # pooled 1280-d feature) and training options on the reference photos, or null (as loaded).
    "global": {"net": dict(_core.train.NetOptions().to_dict(), backbone="mobilenet_v2", weights=PRETRAINED,
                           embedding_dim=0, input_size=224, in_channels=3),
               "train": None},
    # LocalOptions (threads: the top-level option)
    "local": {k: v for k, v in dict(_core.local.LocalOptions().to_dict(), method="sift", max_features=500).items()
              if k != "threads"},
    # RerankOptions (score: both "inliers" and "fused" run, global_weight, inlier_weight and
    # inlier_cap are the fused row's; threads: the top-level option)
    "rerank": {k: v for k, v in dict(_core.local.RerankOptions().to_dict(), top_k=50).items()
               if k not in ("score", "threads")},
    "eval": {"k": [1, 10], "batch_size": 64},
    "examples": 4,                 # verified pairs drawn in the report
    # Query photos also searched as crops of their product region (null: not): a linear probe on the
    # global.net backbone (as loaded) learns the references' classes; each query's top class's
    # activation map, thresholded, gives the box (lookalike.localise); the crop, resized to the
    # photo's side, is embedded. Reported as the "cropped" order (global search, no verification).
    "crop": None,
}

CROP_DEFAULTS: Dict[str, Any] = {
    "threshold": 0.2, "region": "largest", "method": "auto",
    "probe": _core.train.ProbeOptions().to_dict(),
}

APPLIES = [
    (["data.query_split", "data.reference_split", "data.catalogue"], lambda c: c["data"]["set"] == "grocery",
     "data.set is grocery"),
    (["data.query_fraction", "data.reshot"], lambda c: c["data"]["set"] != "grocery",
     "data.set is fashion_products, folder or csv"),
    (["data.reshot_photo"], lambda c: c["data"]["reshot"], "data.reshot"),
]


def _options(cfg: Dict[str, Any], score: str):
    o = _core.local.RerankOptions()
    o.update(dict(cfg["rerank"], score=score, threads=cfg["threads"]), "rerank")
    return o


def _families(paths: List[str], set_name: str) -> Optional[List[str]]:
    """Grocery's product family of each photo (the folder under the split: Fruit, Packages,
    Vegetables); None for other sets."""
    if set_name != "grocery":
        return None
    return [p.split("/dataset/", 1)[1].split("/")[1] for p in paths]


class Sets:
    """queries, references (ImageSets sharing class ids) and, on grocery, the catalogue."""

    def __init__(self, cfg: Dict[str, Any]) -> None:
        d = cfg["data"]
        common = {"image_size": d["image_size"], "threads": cfg["threads"], "root": d["root"]}
        self.catalogue = None
        if d["set"] == "grocery":
            self.queries = data.image_set("grocery", split=d["query_split"], max_per_class=d["max_per_class"], **common)
            self.references = data.image_set("grocery", split=d["reference_split"],
                                             max_per_class=d["max_per_class"], **common)
            if d["catalogue"]:
                self.catalogue = data.image_set("grocery", split="iconic", **common)
        else:
            extra = {k: d[k] for k in ("class_columns", "path_column", "image_root") if d[k] != DEFAULTS["data"][k]}
            whole = data.image_set(d["set"], max_per_class=d["max_per_class"], **common, **extra)
            if d["reshot"]:  # instances: a share of all photos, not of each class
                q, _ = data.random_split(len(whole.labels), d["query_fraction"], cfg["seed"])
                self._reshot(whole, q, d, cfg["seed"])
            else:
                q, r = data.random_split(len(whole.labels), d["query_fraction"], cfg["seed"], labels=whole.labels)
                self.queries, self.references = whole.subset(q), whole.subset(r)
        self.class_names = self.queries.class_names
        self.families = _families(self.queries.paths, d["set"])

    def _reshot(self, whole, q: torch.Tensor, d: Dict[str, Any], seed: int) -> None:
        """Queries: one re-shot copy of each photo in q; references: every photo, each its own
        instance (label = its row), named by its class."""
        images, source = reshot(whole.images[q], d["reshot_photo"], seed + 2, "data.reshot_photo")
        rows = q[source]
        names = [whole.class_names[int(c)] for c in whole.labels]
        self.references = data.ImageSet(whole.images, torch.arange(len(whole.labels)), names, list(whole.paths))
        self.queries = data.ImageSet(images, rows, names, [whole.paths[int(i)] + "~reshot" for i in rows])

    def sizes(self) -> Dict[str, int]:
        out = {"queries": len(self.queries.labels), "references": len(self.references.labels),
               "classes": len(self.class_names)}
        if self.catalogue is not None:
            out["catalogue"] = len(self.catalogue.labels)
        return out


def _global_model(cfg: Dict[str, Any], sets: Sets, out: Output):
    g = cfg["global"]
    net = dict(g["net"])
    if g["train"] is None:
        return train.network(**net), 0.0
    t = time.perf_counter()
    r = train.fit(sets.references.images, sets.references.labels, **net, **g["train"], seed=cfg["seed"],
                  threads=cfg["threads"], device=cfg["device"], progress="off",
                  log_path=str(out.path("train_log_global.jsonl")))
    return r.model, time.perf_counter() - t


def _evaluate(ids: torch.Tensor, labels: torch.Tensor, ref_labels: torch.Tensor, families, ks) -> Dict[str, Any]:
    """Ranked metrics overall and per family (rows of the queries in each)."""
    out = {"all": ev.ranked_metrics(ids, labels, ref_labels, k=ks)}
    for fam in sorted(set(families or [])):
        rows = torch.tensor([i for i, f in enumerate(families) if f == fam])
        out[fam] = ev.ranked_metrics(ids[rows], labels[rows], ref_labels, k=ks)
    return out


def cropped_queries(cfg: Dict[str, Any], sets: Sets, out: Output):
    """The queries' product regions (boxes int64 [N, 4]) and their crops uint8 [N, 3, S, S]: the top
    class's activation map of a probe trained on the references' pooled features."""
    c = dict(CROP_DEFAULTS, **cfg["crop"])
    net = train.network(**dict(cfg["global"]["net"], num_classes=len(sets.class_names), embedding_dim=0))
    bs = cfg["eval"]["batch_size"]
    with out.timed("crop_probe"):
        feats = localise.pooled_features(net, sets.references.images, bs, cfg["device"])
        localise.fit_probe(net, feats, sets.references.labels, **c["probe"])
    with out.timed("crop_localise"):
        boxes = localise.localise(net, sets.queries.images, threshold=c["threshold"], region=c["region"],
                                  threads=cfg["threads"], cam={"method": c["method"], "batch_size": bs,
                                                               "device": cfg["device"]})[0]
        crops = localise.crop(sets.queries.images, boxes, sets.queries.images.shape[-1], cfg["threads"])
    return boxes, crops


def search_and_rerank(cfg, model, queries_f, q_emb, sets: Sets, reference, name: str, out: Output,
                      q_emb_crop=None) -> Dict[str, Any]:
    """Global top-K of every query among `reference`, re-ranked by inliers and by the fused score
    (and, with q_emb_crop, the global top-K of the cropped queries); the metrics of each order."""
    e = cfg["eval"]
    with out.timed(f"{name}_embed"):
        r_emb = model.embed(reference.images, batch_size=e["batch_size"], device=cfg["device"])
    k = min(int(cfg["rerank"]["top_k"]), len(reference.labels))
    scores, ids = ev.exact_knn(q_emb, r_emb, k)
    with out.timed(f"{name}_extract"):
        ref_f = local.extract(reference, **cfg["local"], threads=cfg["threads"])
    local.save_features(out.path(f"features_{name}.bin"), ref_f,
                        {"local": cfg["local"], "paths": list(reference.paths)})
    t = time.perf_counter()
    verified = _core.local.verify_top_k(ids, queries_f, ref_f, _options(cfg, "inliers"))
    verify_s = time.perf_counter() - t
    by_inliers = _core.local.reorder(ids, scores, verified, _options(cfg, "inliers"))
    fused = _core.local.reorder(ids, scores, verified, _options(cfg, "fused"))
    orders = {"global": ids, "inliers": by_inliers.ids, "fused": fused.ids}
    if q_emb_crop is not None:
        orders["cropped"] = ev.exact_knn(q_emb_crop, r_emb, k)[1]
    res = {order: _evaluate(i, sets.queries.labels, reference.labels, sets.families, e["k"])
           for order, i in orders.items()}
    pairs = int((ids >= 0).sum())
    res["cost"] = {"pairs": pairs, "verify_s": verify_s, "pairs_per_s": pairs / verify_s if verify_s else None,
                   "mean_reference_keypoints": sum(len(f) for f in ref_f) / max(1, len(ref_f))}
    res["_lists"] = {"ids": ids, "reranked": by_inliers.ids, "inliers": by_inliers.inliers, "features": ref_f}
    return res


class LocalRerank(Study):
    name = "local_rerank"
    DEFAULTS = DEFAULTS
    APPLIES = APPLIES

    def check(self, cfg: Dict[str, Any]) -> None:
        n = _core.train.NetOptions()
        n.update(cfg["global"]["net"], "global.net")
        if cfg["global"]["train"] is not None:
            train.make_options(**cfg["global"]["net"], **cfg["global"]["train"])
        lo = _core.local.LocalOptions()
        lo.update(cfg["local"], "local")
        for score in ("inliers", "fused"):
            _options(cfg, score)
        if cfg["crop"] is not None and cfg["data"]["reshot"]:
            raise ValueError("crop: the re-shot queries' references are instances (one photo each), no classes "
                             "for the crop's classifier; set crop: null with data.reshot")
        if cfg["crop"] is not None:
            unknown = sorted(set(cfg["crop"]) - set(CROP_DEFAULTS))
            if unknown:
                raise ValueError(f"crop: unknown keys {unknown}; known: {sorted(CROP_DEFAULTS)}")
            c = dict(CROP_DEFAULTS, **cfg["crop"])
            probe = _core.train.ProbeOptions()
            probe.update(c["probe"], "crop.probe")
            probe.validate()
            lo = _core.localise.LocaliseOptions()
            lo.update({"threshold": c["threshold"], "region": c["region"], "cam": {"method": c["method"]}}, "crop")
            if not 0 <= c["threshold"] <= 1 or c["region"] not in ("largest", "all"):
                raise ValueError("crop: threshold must be in [0, 1] and region largest or all")

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        with out.timed("load"):
            sets = Sets(cfg)
        model, train_s = _global_model(cfg, sets, out)
        with out.timed("queries_embed"):
            q_emb = model.embed(sets.queries.images, batch_size=cfg["eval"]["batch_size"], device=cfg["device"])
        with out.timed("queries_extract"):
            queries_f = local.extract(sets.queries, **cfg["local"], threads=cfg["threads"])
        q_emb_crop, crop_boxes = None, None
        if cfg["crop"] is not None:
            crop_boxes, crops = cropped_queries(cfg, sets, out)
            with out.timed("queries_embed_crop"):
                q_emb_crop = model.embed(crops, batch_size=cfg["eval"]["batch_size"], device=cfg["device"])
        refs = {"references": sets.references}
        if sets.catalogue is not None:
            refs["catalogue"] = sets.catalogue
        metrics, lists = {}, {}
        for name, reference in refs.items():
            res = search_and_rerank(cfg, model, queries_f, q_emb, sets, reference, name, out, q_emb_crop)
            lists[name] = res.pop("_lists")
            metrics[name] = res
        report = {"metrics": metrics, "sizes": sets.sizes(), "train_s": train_s,
                  "mean_query_keypoints": sum(len(f) for f in queries_f) / max(1, len(queries_f))}
        plots_and_report(cfg, report, sets, refs, queries_f, lists, out, crop_boxes)
        return report
