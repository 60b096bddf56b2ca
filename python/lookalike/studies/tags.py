"""Style and attribute tags: multi-label classification of product photos (the second source
article: a CNN gives fashion photos style tags; concrete tags need little data, abstract ones
far more; attributes come from the image and the title together).

Protocol: the tag set (clothing-co-parsing's garments, fashion-products' attributes and title
words, or a user's CSV) is split at random into train / val / test photos. A network with one
output per tag (the C++ Trainer's tag heads: multi-label families with a loss by name, exclusive
families as one softmax each) is fine-tuned from the pretrained backbone once per loss in
``losses`` (same backbone, budget and seed), and once from scratch with the last loss. Each tag's
threshold is chosen on val (best F1, or a target precision) and applied unchanged on test. The
last loss is also trained on nested fractions of the training photos (the learning curves): each
tag's test AP against its positive training photos, summarised per group (concrete vs abstract)
as the positives a tag needs to reach ``curves.target_ap``. With ``fusion`` (sets with titles):
linear tag probes on the fine-tuned network's pooled image features, on title embeddings (the
duplicate study's title encoder) and on both (late fusion), compared per family on test; tags
mined from titles are left out there (their label is a function of the title).

Every figure is a C++ call (reader, Trainer, scores, thresholds, AP/F1/P@k/coverage, group means,
curve summary, probes); this module orders the calls and collects the figures.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

import torch

from .. import _core, data, localise, tags, train
from .. import eval as ev
from ..dedup import TextEncoder
from .base import Output, Study
from .tags_report import plots_and_report

PRETRAINED = "{pretrained}/mobilenet_v2_1.0_224_quant.tflite"
_TRAIN = _core.train.TrainOptions().to_dict()
NET_KEYS = list(_TRAIN["model"])
_PER_RUN = {"seed", "threads", "device", "checkpoint_dir", "resume", "log_path", "progress", "tag_loss",
            "sampler", "samples_per_class"}
TRAIN = {k: v for k, v in train.default_options().items()
         if k not in NET_KEYS and k not in _TRAIN["filter"] and k not in _TRAIN["metric"] and k not in _PER_RUN}
# lr is the heads'; the pretrained backbone learns at a tenth of it (at the full rate its features
# collapse: test mAP 0.11 on clothing-co-parsing, below a linear probe's 0.20)
TRAIN.update({"epochs": 8, "batch_size": 32, "lr": 1e-3, "backbone_lr_factor": 0.1, "freeze_stages": 4,
              "augment": "flip"})

DEFAULTS: Dict[str, Any] = {
    "study": "tags",
    "name": "tags",
    "seed": 0,
    "threads": 0,
    "device": "cpu",
    # TagSetOptions (threads: the top-level option)
    "data": {k: v for k, v in dict(_core.data.TagSetOptions().to_dict(), image_size=160, min_count=20,
                                   exclude=["skin", "hair"]).items() if k != "threads"},
    "max_photos": 0,                     # photos kept at random (0: all; a small run takes fewer)
    "split": {"val": 0.15, "test": 0.25},
    "net": dict(_core.train.NetOptions().to_dict(), backbone="mobilenet_v2", weights=PRETRAINED, embedding_dim=0,
                in_channels=3),
    "train": TRAIN,                      # the Trainer's keywords (exclusive, tag_pos_weight, budget)
    "losses": [{"name": "bce"}, {"name": "asl"}],  # MultiLabelLossOptions, side by side; the last is the main
    # the network without weights, trained with the main loss; every stage learns, at `lr` (0: train's)
    # times backbone_lr_factor
    "scratch": {"enabled": True, "freeze_stages": 0, "lr": 0.0, "backbone_lr_factor": 1.0},
    "curves": {"fractions": [0.1, 0.25, 0.5], "target_ap": 0.5},  # besides 1.0 (the main run)
    # tag groups by family (the concrete vs abstract question): [{name, families}]
    "groups": [{"name": "concrete", "families": ["tag", "articleType"]},
               {"name": "abstract", "families": ["usage", "season", "pattern"]}],
    "thresholds": _core.eval.ThresholdOptions().to_dict(),
    "fusion": {"enabled": False, "text": dict(TextEncoder.defaults(), epochs=5),
               "probe": {"epochs": 300, "lr": 0.01, "weight_decay": 1e-4, "batch_size": 0}},
    # the main loss also trained and tested on each photo's product region: the class activation map
    # box (lookalike.localise) of its top tag under a linear probe on the untrained-for-tags network's
    # pooled features (the probe fit on the training photos), cropped and resized (the `cropped` run)
    "crop": {"enabled": False, "threshold": 0.6, "probe": {"epochs": 300, "lr": 0.01, "weight_decay": 1e-4}},
    # tag-aware search ("like this photo, with tag T"): test photos without T search the train+val
    # photos (the main tagger's embeddings, exact inner product); the top `candidates` are kept as
    # found, filtered by T's score and threshold, or re-ranked by similarity + weight x T's score;
    # measured: the share of the top k carrying T, and sharing the query's `relevance_family` tag
    "search": {"enabled": False, "tags": [], "candidates": 100, "k": 10, "weight": 1.0,
               "relevance_family": "articleType"},
    "examples": 8,
}


def _run_options(cfg: Dict[str, Any], loss: Dict[str, Any], net: Optional[Dict[str, Any]] = None,
                 over: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return dict(dict(cfg["net"], **(net or {})), **dict(cfg["train"], **(over or {})), tag_loss=loss,
                seed=cfg["seed"], threads=cfg["threads"], device=cfg["device"], progress="off")


def _scratch(cfg: Dict[str, Any]) -> Dict[str, Any]:
    sc = cfg["scratch"]
    return {"freeze_stages": sc["freeze_stages"], "backbone_lr_factor": sc["backbone_lr_factor"],
            **({"lr": sc["lr"]} if sc["lr"] > 0 else {})}


def _split(cfg: Dict[str, Any], n: int) -> Dict[str, torch.Tensor]:
    keep = torch.arange(n)
    if 0 < cfg["max_photos"] < n:
        keep = data.random_split(n, cfg["max_photos"] / n, cfg["seed"])[0]
    test, rest = data.random_split(len(keep), cfg["split"]["test"], cfg["seed"] + 1)
    val, tr = data.random_split(len(rest), cfg["split"]["val"] / (1 - cfg["split"]["test"]), cfg["seed"] + 2)
    return {"train": keep[rest[tr]], "val": keep[rest[val]], "test": keep[test]}


class _Sets:
    """The tag set, its split, the known-target masks and each tag's family and group."""

    def __init__(self, cfg: Dict[str, Any], s) -> None:
        self.s, self.cfg = s, cfg
        self.rows = _split(cfg, len(s))
        self.exclusive = list(cfg["train"]["exclusive"])
        self.known = tags.known(s.tags, self.exclusive, s.targets)
        self.families = tags.families(s.tags, self.exclusive)
        self.family = torch.empty(len(s.tags), dtype=torch.int64)
        for i, f in enumerate(self.families):
            self.family[f["columns"]] = i
        self.group_names = [g["name"] for g in cfg["groups"]]
        of = {fam: i for i, g in enumerate(cfg["groups"]) for fam in g["families"]}
        self.group = torch.tensor([of.get(tags.family(t), -1) for t in s.tags], dtype=torch.int64)

        self.images = s.images

    def with_images(self, images: torch.Tensor) -> "_Sets":
        """The same split with other photos of the same rows (e.g. crops)."""
        other = copy.copy(self)
        other.images = images
        return other

    def part(self, name: str, rows: Optional[torch.Tensor] = None):
        r = self.rows[name] if rows is None else self.rows[name][rows]
        return self.images[r], self.s.targets[r], self.known[r]


def _metrics(sets: _Sets, scores: torch.Tensor, thresholds: torch.Tensor) -> Dict[str, Any]:
    """Test metrics of scores [N, T]: per-tag AP over the known targets, mAP, F1 at the val
    thresholds (unknown entries neither predicted nor true), P@1, P@3, coverage, per family and group."""
    _, y, known = sets.part("test")
    ap = ev.average_precision_per_column(scores, y, known)
    m = ev.mean_average_precision(scores, y, known)
    pred = ev.apply_thresholds(scores, thresholds) * known
    f1 = ev.f1_scores(pred, y)
    k = min(3, y.shape[1])
    return {"map_macro": m["macro"], "map_micro": m["micro"], "f1_macro": f1["macro"], "f1_micro": f1["micro"],
            "precision": f1["precision"], "recall": f1["recall"], "predicted_per_photo": f1["predicted_per_photo"],
            "precision_at_1": ev.precision_at_k(scores, y, 1), f"precision_at_{k}": ev.precision_at_k(scores, y, k),
            "coverage": ev.coverage_error(scores, y),
            "family_map": dict(zip([f["name"] for f in sets.families],
                                   ev.group_mean(ap, sets.family, len(sets.families)).tolist())),
            "group_map": dict(zip(sets.group_names, ev.group_mean(ap, sets.group, len(sets.group_names)).tolist())),
            "_ap": ap, "_f1": ev.f1_per_column(pred, y)}


def train_run(sets: _Sets, opts: Dict[str, Any], rows: Optional[torch.Tensor] = None) -> Dict[str, Any]:
    """Fine-tunes one tagger on the training photos (``rows`` of them), chooses the thresholds on val
    and scores test."""
    x, y, _ = sets.part("train", rows)
    vx, vy, _ = sets.part("val")
    r = tags.fit(x, y, sets.s.tags, val=(vx, vy), **opts)
    chosen = r.tagger.fit_thresholds(r.tagger.scores(vx), vy, **sets.cfg["thresholds"])
    scores = r.tagger.scores(sets.part("test")[0])
    last = r.history[-1]
    out = {"tagger": r.tagger, "history": r.history, "scores": scores, "chosen": chosen, "positives": y.sum(0),
           "train_s": sum(h["seconds"] for h in r.history), "images_per_s": last["items_per_second"],
           "tags_without_positives": r.history[0]["tags_without_positives"]}
    out.update(_metrics(sets, scores, chosen["threshold"]))
    return out


def _cropped(sets: _Sets, cfg: Dict[str, Any]) -> torch.Tensor:
    """Every photo cropped to its top tag's CAM box (see DEFAULTS["crop"]), at the photos' side."""
    s, c = sets.s, cfg["crop"]
    net = train.network(**dict(cfg["net"], num_classes=len(s.tags)))
    feats = localise.pooled_features(net, s.images, 64, cfg["device"])
    tr = sets.rows["train"]
    localise.fit_probe(net, feats[tr], s.targets[tr], **dict(c["probe"], seed=cfg["seed"]))
    boxes = localise.localise(net, s.images, threshold=c["threshold"], cam={"device": cfg["device"]},
                              threads=cfg["threads"])[0]
    return localise.crop(s.images, boxes, s.images.shape[-1], cfg["threads"])


def _curves(sets: _Sets, cfg: Dict[str, Any], main: Dict[str, Any], opts: Dict[str, Any], out: Output) -> Dict[str, Any]:
    """The main loss trained on nested fractions of the training photos (one seeded order)."""
    n = len(sets.rows["train"])
    order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg["seed"] + 3))
    fractions = sorted(float(f) for f in cfg["curves"]["fractions"] if 0 < f < 1)
    points = []
    for f in fractions:
        with out.timed("curves"):
            r = train_run(sets, opts, order[:max(2, round(f * n))].sort().values)
        points.append({"fraction": f, "photos": max(2, round(f * n)), "map_macro": r["map_macro"],
                       "positives": r["positives"], "ap": r["_ap"], "group_map": r["group_map"]})
    points.append({"fraction": 1.0, "photos": n, "map_macro": main["map_macro"], "positives": main["positives"],
                   "ap": main["_ap"], "group_map": main["group_map"]})
    pos = torch.stack([p["positives"] for p in points])
    ap = torch.stack([p["ap"] for p in points])
    summary = ev.summarise_curves(pos, ap, sets.group, len(sets.group_names), cfg["curves"]["target_ap"])
    return {"points": points, "positives": pos, "ap": ap, "summary": summary}


def _fusion(sets: _Sets, cfg: Dict[str, Any], main: Dict[str, Any], out: Output) -> Dict[str, Any]:
    """Image-only, title-only and fused linear probes per family (mined tags left out)."""
    s = sets.s
    if not s.titles:
        raise ValueError(f"fusion: the tag set '{cfg['data']['set']}' has no titles (title_column)")
    keep = (~s.mined).nonzero().view(-1)
    names = [s.tags[i] for i in keep.tolist()]
    heads = {"tag_loss": cfg["losses"][-1], "tag_pos_weight": cfg["train"]["tag_pos_weight"],
             "exclusive": [e for e in sets.exclusive if any(tags.family(t) == e for t in names)]}
    with out.timed("fusion"):
        net = main["tagger"].model
        image = {p: localise.pooled_features(net, sets.part(p)[0], 64, cfg["device"]) for p in ("train", "test")}
        titles = {p: [s.titles[i] for i in sets.rows[p].tolist()] for p in ("train", "test")}
        enc = TextEncoder(**dict(cfg["fusion"]["text"], seed=cfg["seed"]))
        n = len(titles["train"])
        enc.fit(titles["train"], torch.arange(n), torch.arange(n))
        text = {p: enc.encode(titles[p]) for p in ("train", "test")}
        y, ty = s.targets[sets.rows["train"]][:, keep], s.targets[sets.rows["test"]][:, keep]
        known = sets.known[sets.rows["test"]][:, keep]
        fam = sets.family[keep]
        result: Dict[str, Any] = {"tags": len(names)}
        for name, feats in (("image", image), ("title", text),
                            ("fused", {p: torch.cat([image[p], text[p]], 1) for p in image})):
            probe, rec = tags.fit_probe(feats["train"], y, names, **heads,
                                        **dict(cfg["fusion"]["probe"], seed=cfg["seed"]))
            ap = ev.average_precision_per_column(probe.scores(feats["test"]), ty, known)
            result[name] = {"map_macro": ev.mean_average_precision(probe.scores(feats["test"]), ty, known)["macro"],
                            "family_map": dict(zip([f["name"] for f in sets.families],
                                                   ev.group_mean(ap, fam, len(sets.families)).tolist())),
                            "probe_s": rec["seconds"]}
    return result


def _search(sets: _Sets, cfg: Dict[str, Any], main: Dict[str, Any], out: Output) -> Dict[str, Any]:
    """Plain, filtered and re-ranked visual search for each wanted tag (see DEFAULTS["search"])."""
    from ..index import Index
    s, sc = sets.s, cfg["search"]
    missing = [t for t in sc["tags"] if t not in s.tags]
    if missing:
        raise ValueError(f"search.tags: {missing} not in the vocabulary ({len(s.tags)} tags)")
    fam = [f for f in sets.families if f["name"] == sc["relevance_family"]]
    if not fam:
        raise ValueError(f"search.relevance_family: no family '{sc['relevance_family']}'")
    tagger = main["tagger"]
    gallery = torch.cat([sets.rows["train"], sets.rows["val"]])
    queries = sets.rows["test"]
    with out.timed("search"):
        model = tagger.model
        g_emb, q_emb = model.embed(s.images[gallery], batch_size=64), model.embed(s.images[queries], batch_size=64)
        index = Index(g_emb.shape[1], "Flat", metric="ip")
        index.add(g_emb, torch.arange(len(gallery)))
        sims, cand = index.search(q_emb, sc["candidates"])
        g_scores, g_targets = tagger.scores(s.images[gallery]), s.targets[gallery]
        cols = torch.tensor(fam[0]["columns"])
        q_family = s.targets[queries][:, cols]
        relevance = torch.where(q_family.sum(1) > 0, cols[q_family.argmax(1)], torch.tensor(-1))
        results = []
        for name in sc["tags"]:
            t = s.tags.index(name)
            ask = (s.targets[queries][:, t] == 0) & sets.known[queries][:, t]  # photos without the tag
            wanted = torch.full((int(ask.sum()),), t, dtype=torch.int64)
            row = {"tag": name, "queries": int(ask.sum()), "gallery_with_tag": int(g_targets[:, t].sum())}
            ranked = {"plain": cand[ask][:, :sc["k"]]}
            for mode in ("filter", "rerank"):
                ranked[mode] = tags.rerank(cand[ask], sims[ask], g_scores, tagger.thresholds, wanted, mode=mode,
                                           weight=sc["weight"], k=sc["k"])[0]
            for mode, ids in ranked.items():
                row[f"{mode}_tag_share"] = tags.share_at_k(ids, g_targets, wanted)
                row[f"{mode}_relevance"] = tags.share_at_k(ids, g_targets, relevance[ask])
            results.append(row)
    return {"k": sc["k"], "candidates": sc["candidates"], "relevance_family": sc["relevance_family"],
            "tags": results}


class Tags(Study):
    name = "tags"
    DEFAULTS = DEFAULTS

    def check(self, cfg: Dict[str, Any]) -> None:
        _core.data.TagSetOptions().update(cfg["data"], "data")
        if not cfg["losses"]:
            raise ValueError("losses: at least one multi-label loss")
        for i, loss in enumerate(cfg["losses"]):
            _core.train.MultiLabelLossOptions().update(loss, f"losses[{i}]")
            train.make_options(**_run_options(cfg, loss))  # unknown keys or bad values: an error now
        train.make_options(**_run_options(cfg, cfg["losses"][-1], {"weights": ""}, _scratch(cfg)))
        _core.eval.ThresholdOptions().update(cfg["thresholds"], "thresholds")
        if any(not 0 < float(f) < 1 for f in cfg["curves"]["fractions"]):
            raise ValueError("curves.fractions: each in (0, 1) (1.0, the main run, is always there)")
        sp = cfg["split"]
        if not (0 < sp["val"] and 0 < sp["test"] and sp["val"] + sp["test"] < 1):
            raise ValueError(f"split: val and test must be positive with val + test < 1, got {sp}")
        for g in cfg["groups"]:
            if not isinstance(g, dict) or set(g) != {"name", "families"} or not isinstance(g["families"], list):
                raise ValueError(f"groups: each entry is {{name, families: [...]}}, got {g!r}")
        if cfg["net"].get("num_classes", 0) != 0:
            raise ValueError("net.num_classes: one output per tag of the vocabulary; leave it 0")
        d = cfg["data"]
        if cfg["fusion"]["enabled"] and (d["set"] == "clothing_co_parsing" or (d["set"] == "csv" and not d["title_column"])):
            raise ValueError(f"fusion: the tag set '{d['set']}' has no titles (csv: set data.title_column)")
        TextEncoder(**cfg["fusion"]["text"])
        _core.train.ProbeOptions().update(cfg["fusion"]["probe"], "fusion.probe")
        _core.train.ProbeOptions().update(cfg["crop"]["probe"], "crop.probe")
        if not 0 <= cfg["crop"]["threshold"] <= 1:
            raise ValueError(f"crop.threshold: a fraction of the map's range in [0, 1], got {cfg['crop']['threshold']}")

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        with out.timed("load"):
            s = data.tag_set(**cfg["data"], threads=cfg["threads"])
        sets = _Sets(cfg, s)
        runs: Dict[str, Dict[str, Any]] = {}
        for loss in cfg["losses"]:
            with out.timed("train"):
                runs[loss["name"]] = train_run(sets, _run_options(cfg, loss))
        main_loss = cfg["losses"][-1]
        main = runs[main_loss["name"]]
        if cfg["scratch"]["enabled"]:
            with out.timed("scratch"):
                runs["scratch"] = train_run(sets, _run_options(cfg, main_loss, {"weights": ""}, _scratch(cfg)))
        if cfg["crop"]["enabled"]:
            with out.timed("crop"):
                runs["cropped"] = train_run(sets.with_images(_cropped(sets, cfg)), _run_options(cfg, main_loss))
        curves = _curves(sets, cfg, main, _run_options(cfg, main_loss), out)
        fusion = _fusion(sets, cfg, main, out) if cfg["fusion"]["enabled"] else None
        search = _search(sets, cfg, main, out) if cfg["search"]["enabled"] else None
        main["tagger"].save(str(out.path("tagger.pt")))
        report = self._figures(cfg, sets, runs, main_loss["name"], curves, fusion)
        report["search"] = search
        plots_and_report(cfg, report, sets, runs, main_loss["name"], curves, out)
        return report

    def _figures(self, cfg, sets: _Sets, runs, main_name: str, curves, fusion) -> Dict[str, Any]:
        s, main = sets.s, runs[main_name]
        per_tag = []
        for t, name in enumerate(s.tags):
            row = {"tag": name, "family": tags.family(name),
                   "group": sets.group_names[int(sets.group[t])] if sets.group[t] >= 0 else "",
                   "mined": bool(s.mined[t]) if s.mined is not None else False,
                   "train_positives": int(main["positives"][t]), "threshold": float(main["chosen"]["threshold"][t]),
                   "threshold_fallback": bool(main["chosen"]["fallback"][t]), "test_f1": float(main["_f1"][t]),
                   "positives_needed": float(curves["summary"]["tag_needed"][t])}
            row.update({f"ap_{k}": float(r["_ap"][t]) for k, r in runs.items()})
            per_tag.append(row)
        drop = {"tagger", "history", "scores", "chosen", "positives", "_ap", "_f1"}
        summ = curves["summary"]
        return {
            "sizes": {"photos": sum(len(v) for v in sets.rows.values()), "read": len(s), "tags": len(s.tags), **{k: len(v) for k, v in sets.rows.items()},
                      "untagged": s.untagged, "skipped": s.skipped, "families": [f["name"] for f in sets.families]},
            "main": main_name,
            "runs": {k: {m: v for m, v in r.items() if m not in drop} for k, r in runs.items()},
            "history": {k: r["history"] for k, r in runs.items()},
            "curves": {"fractions": [p["fraction"] for p in curves["points"]],
                       "photos": [p["photos"] for p in curves["points"]],
                       "map_macro": [p["map_macro"] for p in curves["points"]],
                       "group_map": [p["group_map"] for p in curves["points"]],
                       "target_ap": cfg["curves"]["target_ap"],
                       "groups": {g: {"positives_needed_median": float(summ["group_needed"][i]),
                                      "share_reaching": float(summ["group_reached"][i]),
                                      "median_positives": summ["group_positives"][i].tolist(),
                                      "map": summ["group_ap"][i].tolist()}
                                  for i, g in enumerate(sets.group_names)}},
            "fusion": fusion,
            "per_tag": per_tag,
        }
