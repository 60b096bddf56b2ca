"""Product-region localisation evaluated against boxes: a classifier on a frozen backbone's pooled
features (a linear probe, multi-label: one sigmoid per tag) gives each tag's class activation map;
the map thresholded at a fraction of its range gives the tag's box (the largest connected
component). Scored with the weakly-supervised localisation metrics (Choe et al., CVPR 2020):
GT-known box accuracy (IoU >= 0.5 with the tag given) at the configured threshold, and MaxBoxAcc
over a grid of thresholds; beside the two trivial baselines (the whole photo; a centred box of the
tag's mean size), per tag and overall.

Protocol on clothing-co-parsing: the photos with boxes (masks) are split in two folds; each fold
is localised by a probe trained on the photos without boxes (image-level tags only) plus the
other fold, so no photo is localised by a classifier that saw it, and the centred baseline takes
its mean sizes from the other fold's boxes.

Every figure is a C++ call (reader, network, probe, maps, boxes, IoU, box accuracy, AP); this
module orders the calls and collects the figures.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List

import torch

from .. import _core, data, localise, train
from .. import eval as ev
from .base import Output, Study
from .localisation_report import plots_and_report

PRETRAINED = "{pretrained}/mobilenet_v2_1.0_224_quant.tflite"

DEFAULTS: Dict[str, Any] = {
    "study": "localisation",
    "name": "localisation",
    "seed": 0,
    "threads": 0,
    "device": "cpu",
    # TagSetOptions (threads: the top-level option)
    "data": {k: v for k, v in dict(_core.data.TagSetOptions().to_dict(), image_size=448, min_count=20,
                                   exclude=["skin", "hair"]).items() if k != "threads"},
    # NetOptions of the classifier's trunk (these defaults: the ImageNet MobileNetV2; embedding_dim 0
    # keeps the classifier on the average-pooled map, which plain CAM needs)
    "net": dict(_core.train.NetOptions().to_dict(), backbone="mobilenet_v2", weights=PRETRAINED,
                embedding_dim=0, in_channels=3),
    "probe": _core.train.ProbeOptions().to_dict(),
    # LocaliseOptions (cam.device: the top-level device; threads: the top-level option)
    "localise": {"cam": {k: v for k, v in _core.localise.CamOptions().to_dict().items() if k != "device"},
                 **{k: v for k, v in _core.localise.LocaliseOptions().to_dict().items() if k not in ("cam", "threads")}},
    "eval": {"threshold_step": 0.05, "iou": 0.5, "batch_size": 32},
    "max_boxed_photos": 0,          # photos with boxes localised (0: all; a small run takes fewer)
    "examples": 6,                  # photos drawn with their maps and boxes
}


def _localise_options(cfg: Dict[str, Any]):
    o = _core.localise.LocaliseOptions()
    lo = dict(cfg["localise"], threads=cfg["threads"])
    lo["cam"] = dict(lo["cam"], device=cfg["device"])
    o.update(lo, "localise")
    return o


def _folds(boxed: torch.Tensor, cfg: Dict[str, Any]) -> List[torch.Tensor]:
    """The boxed photos (row ids) in two seeded folds, after keeping max_boxed_photos of them."""
    n = len(boxed)
    keep = int(cfg["max_boxed_photos"])
    if 0 < keep < n:
        idx, _ = data.random_split(n, keep / n, cfg["seed"])
        boxed = boxed[idx.sort().values]
    a, b = data.random_split(len(boxed), 0.5, cfg["seed"] + 1)
    return [boxed[a.sort().values], boxed[b.sort().values]]


def _rows_of(s, photos: torch.Tensor) -> torch.Tensor:
    """Box rows whose photo is among `photos`."""
    return torch.isin(s.box_image, photos).nonzero().view(-1)


def run_fold(cfg, s, net, feats, train_photos, eval_photos, ref_rows, rows, grid) -> Dict[str, Any]:
    """Probe on train_photos, maps of the eval rows, boxes at each grid threshold and at the
    configured one, the baselines, and the probe's tag AP on the eval photos."""
    fit = localise.fit_probe(net, feats[train_photos], s.targets[train_photos], **cfg["probe"])
    scores = localise.probe_logits(net, feats[eval_photos])  # the pooled features, not a second forward
    opts = _localise_options(cfg)
    t = time.perf_counter()
    # the fold's photos alone, each row pointing at its photo among them
    image_index = torch.searchsorted(eval_photos, s.box_image[rows])
    maps, _, _ = _core.localise.activation_maps(net._m, s.images[eval_photos], s.box_tag[rows], image_index, opts.cam)
    sizes = s.sizes[s.box_image[rows]]
    at_threshold = localise.boxes_from_maps(maps, sizes, [opts.threshold], opts.region, cfg["threads"])[0]
    maps_s = time.perf_counter() - t
    grid_boxes = localise.boxes_from_maps(maps, sizes, grid, opts.region, cfg["threads"])
    centred = localise.centred_mean_boxes(s.boxes[ref_rows], s.box_tag[ref_rows], s.sizes[s.box_image[ref_rows]],
                                          s.box_tag[rows], sizes)
    return {"probe": fit, "scores": scores, "targets": s.targets[eval_photos], "maps": maps,
            "at_threshold": at_threshold, "grid": grid_boxes, "centred": centred, "whole": localise.whole_boxes(sizes),
            "localise_s": maps_s, "photos": len(eval_photos)}


def _accuracy(boxes, truth, tags, n_tags, iou):
    a = localise.box_accuracy(boxes, truth, tags, n_tags, iou)
    return a, {"accuracy": float(a.accuracy[a.best]), "best": int(a.best)}


class Localisation(Study):
    name = "localisation"
    DEFAULTS = DEFAULTS

    def check(self, cfg: Dict[str, Any]) -> None:
        _core.train.NetOptions().update(cfg["net"], "net")
        probe = _core.train.ProbeOptions()
        probe.update(cfg["probe"], "probe")
        probe.validate()
        _core.data.TagSetOptions().update(cfg["data"], "data")
        _localise_options(cfg)
        localise.threshold_grid(cfg["eval"]["threshold_step"])
        if not cfg["net"].get("num_classes", 0) == 0:
            raise ValueError("net.num_classes: set from the tag vocabulary; leave it 0")

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        with out.timed("load"):
            s = data.tag_set(**cfg["data"], threads=cfg["threads"])
        if s.boxes is None or len(s.boxes) == 0:
            raise ValueError(f"data: the tag set '{cfg['data']['set']}' has no boxes to score localisation against")
        net = train.network(**dict(cfg["net"], num_classes=len(s.tags)))
        with out.timed("features"):
            feats = localise.pooled_features(net, s.images, cfg["eval"]["batch_size"], cfg["device"])
        boxed = s.box_image.unique()
        unboxed = torch.ones(len(s), dtype=torch.bool)
        unboxed[boxed] = False
        unboxed = unboxed.nonzero().view(-1)
        folds = _folds(boxed, cfg)
        grid = localise.threshold_grid(cfg["eval"]["threshold_step"])
        parts, rows_all = [], []
        for f, photos in enumerate(folds):
            other = folds[1 - f]
            rows, ref_rows = _rows_of(s, photos), _rows_of(s, other)
            with out.timed("folds"):
                parts.append(run_fold(cfg, s, net, feats, torch.cat([unboxed, other]), photos, ref_rows, rows, grid))
            rows_all.append(rows)
        report = self._figures(cfg, s, parts, rows_all, grid)
        plots_and_report(cfg, report, s, parts, torch.cat(rows_all), out)
        return report

    def _figures(self, cfg, s, parts, fold_rows, grid) -> Dict[str, Any]:
        rows = torch.cat(fold_rows)
        truth, tags, n_tags, iou = s.boxes[rows], s.box_tag[rows], len(s.tags), cfg["eval"]["iou"]
        cat = lambda key, dim=0: torch.cat([p[key] for p in parts], dim)  # noqa: E731
        cam, cam_m = _accuracy(cat("grid", 1), truth, tags, n_tags, iou)
        fixed, _ = _accuracy(cat("at_threshold")[None], truth, tags, n_tags, iou)
        # the threshold of each fold chosen on the other fold's held-out boxes (its best box accuracy)
        best = [localise.box_accuracy(p["grid"], s.boxes[r], s.box_tag[r], n_tags, iou).best
                for p, r in zip(parts, fold_rows)]
        chosen = [best[1 - f] for f in range(len(parts))]
        cv_boxes = torch.cat([p["grid"][c] for p, c in zip(parts, chosen)])
        cv, _ = _accuracy(cv_boxes[None], truth, tags, n_tags, iou)
        whole, _ = _accuracy(cat("whole")[None], truth, tags, n_tags, iou)
        centred, _ = _accuracy(cat("centred")[None], truth, tags, n_tags, iou)
        ap = ev.average_precision_per_column(cat("scores"), cat("targets"))
        m_ap = ev.mean_average_precision(cat("scores"), cat("targets"))
        per_tag = []
        for t, name in enumerate(s.tags):
            n = int(cam.group_rows[t])
            if n == 0:
                continue
            per_tag.append({"tag": name, "boxes": n, "photos_with_tag": int(s.counts[t]), "ap": float(ap[t]),
                            "gt_known": float(cv.group_accuracy[t, 0]),
                            "gt_known_fixed": float(fixed.group_accuracy[t, 0]), "max_box_acc": float(cam.group_max[t]),
                            "whole": float(whole.group_accuracy[t, 0]), "centred": float(centred.group_accuracy[t, 0])})
        threshold = cfg["localise"]["threshold"]
        localise_s = sum(p["localise_s"] for p in parts)
        return {
            "sizes": {"photos": len(s), "tags": n_tags, "boxed_photos": sum(p["photos"] for p in parts),
                      "boxes": len(rows)},
            "overall": {"gt_known": float(cv.accuracy[0]), "cv_thresholds": [grid[c] for c in chosen],
                        "gt_known_fixed": float(fixed.accuracy[0]), "threshold": threshold,
                        "max_box_acc": cam_m["accuracy"], "best_threshold": grid[cam_m["best"]],
                        "whole": float(whole.accuracy[0]), "centred": float(centred.accuracy[0]),
                        "mean_iou": float(cv.iou.mean())},
            "curve": {"thresholds": grid, "accuracy": cam.accuracy.tolist()},
            "classifier": {"map_macro": m_ap["macro"], "map_micro": m_ap["micro"],
                           "probe": [p["probe"] for p in parts]},
            "per_tag": per_tag,
            "speed": {"boxes_per_s": len(rows) / localise_s if localise_s else None,
                      "images_per_s": sum(p["photos"] for p in parts) / localise_s if localise_s else None,
                      "localise_s": localise_s},
            "_iou": cv.iou[0], "_boxes": cv_boxes,
            "_row_thresholds": torch.cat([torch.full((len(r),), grid[c]) for r, c in zip(fold_rows, chosen)]),
        }
