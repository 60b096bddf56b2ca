"""The localisation study's figures, boxes.csv and report.md (text and plots only; the numbers
come from the study)."""
from __future__ import annotations

import csv
import io
from typing import Any, Dict, List

import torch

from .base import Output


def _pct(v: float) -> str:
    return "–" if v != v else f"{100 * v:.1f}"


def _boxes_csv(s, pred: torch.Tensor, thresholds: torch.Tensor, rows: torch.Tensor, iou: torch.Tensor) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["photo", "tag", "threshold", "x0", "y0", "x1", "y1", "true_x0", "true_y0", "true_x1", "true_y1",
                "iou"])
    for r, (img, tag) in enumerate(zip(s.box_image[rows].tolist(), s.box_tag[rows].tolist())):
        w.writerow([s.names[img], s.tags[tag], f"{float(thresholds[r]):.2f}", *pred[r].tolist(),
                    *s.boxes[rows[r]].tolist(), f"{float(iou[r]):.4f}"])
    return buf.getvalue()


def _curve(report: Dict[str, Any], title: str):
    import matplotlib.pyplot as plt
    c, o = report["curve"], report["overall"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(c["thresholds"], [100 * a for a in c["accuracy"]], "o-", ms=3, label="CAM box")
    ax.axhline(100 * o["whole"], color="grey", ls="--", label="whole photo")
    ax.axhline(100 * o["centred"], color="black", ls=":", label="centred mean-size box")
    ax.set_xlabel("CAM threshold (fraction of the map's range)")
    ax.set_ylabel("box accuracy, IoU >= 0.5 (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _examples(s, parts, pred: torch.Tensor, rows: torch.Tensor, n: int, threshold: str):
    """A box row of each of the n largest tags (each from another photo where it can): photo, CAM
    overlay, predicted and true boxes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    maps = torch.cat([p["maps"] for p in parts])
    tags = s.box_tag[rows]
    order = torch.bincount(tags, minlength=len(s.tags)).argsort(descending=True)
    picks: List[int] = []
    used = set()
    for t in order.tolist():
        hit = (tags == t).nonzero().view(-1).tolist()
        if hit:
            fresh = [r for r in hit if int(s.box_image[rows[r]]) not in used]
            picks.append(fresh[0] if fresh else hit[0])
            used.add(int(s.box_image[rows[picks[-1]]]))
        if len(picks) == n:
            break
    fig, axes = plt.subplots(1, len(picks), figsize=(2.3 * len(picks), 3.6), squeeze=False)
    for ax, r in zip(axes[0], picks):
        img = int(s.box_image[rows[r]])
        w, h = s.sizes[img].tolist()
        ax.imshow(s.images[img].permute(1, 2, 0).numpy(), extent=(0, w, h, 0))
        ax.imshow(maps[r].numpy(), extent=(0, w, h, 0), cmap="jet", alpha=0.4, interpolation="bilinear")
        for box, colour in ((pred[r], "red"), (s.boxes[rows[r]], "lime")):
            x0, y0, x1, y1 = box.tolist()
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=colour, lw=1.5))
        ax.set_title(f"{s.tags[int(tags[r])]}", fontsize=8)
        ax.axis("off")
    fig.suptitle(f"CAM (thresholds {threshold}): predicted box red, true box green", fontsize=9)
    fig.tight_layout()
    return fig


def plots_and_report(cfg: Dict[str, Any], report: Dict[str, Any], s, parts, rows: torch.Tensor, out: Output) -> None:
    iou, pred, thr = report.pop("_iou"), report.pop("_boxes"), report.pop("_row_thresholds")
    out.text("boxes.csv", _boxes_csv(s, pred, thr, rows, iou))
    o, z, net, sp = report["overall"], report["sizes"], cfg["net"], report["speed"]
    cv_thr = " / ".join(f"{t:.2f}" for t in o["cv_thresholds"])
    out.figure("accuracy_vs_threshold.png", _curve(report, f"{cfg['name']}: box accuracy over CAM thresholds"))
    lines = [f"# {cfg['name']}: product-region localisation with class activation maps", "",
             f"Set `{cfg['data']['set']}`: {z['photos']} photos read at {cfg['data']['image_size']} px, {z['tags']} tags "
             f"(at least {cfg['data']['min_count']} photos each); {z['boxes']} boxes of {z['boxed_photos']} photos scored. "
             f"Classifier: a linear probe ({cfg['probe']['epochs']} epochs, one sigmoid per tag) on the pooled "
             f"features of `{net['backbone']}` (weights `{net['weights'] or 'random'}`), trained per fold on the photos "
             f"without boxes plus the other fold; maps: `{cfg['localise']['cam']['method']}`, boxes: the "
             f"{cfg['localise']['region']} region above the threshold. A box is correct at IoU >= {cfg['eval']['iou']}; "
             f"seed {cfg['seed']}.", "",
             "| boxes | GT-known loc. acc. (%) | MaxBoxAcc (%) |", "|---|---|---|",
             f"| CAM, threshold chosen on the other fold ({cv_thr}) | {_pct(o['gt_known'])} | {_pct(o['max_box_acc'])} "
             f"(threshold {o['best_threshold']:.2f}) |",
             f"| CAM, threshold {o['threshold']} (configured) | {_pct(o['gt_known_fixed'])} | |",
             f"| whole photo | {_pct(o['whole'])} | {_pct(o['whole'])} |",
             f"| centred box of the tag's mean size | {_pct(o['centred'])} | {_pct(o['centred'])} |", "",
             f"Tag classifier on the scored photos: mAP {report['classifier']['map_macro']:.3f} (macro), "
             f"{report['classifier']['map_micro']:.3f} (micro). Localisation: {sp['images_per_s']:.1f} photos/s, "
             f"{sp['boxes_per_s']:.1f} boxes/s (maps + boxes, {cfg['threads'] or 'all'} threads).", "",
             "![accuracy](accuracy_vs_threshold.png)", "",
             "## Per tag (box accuracy, %)", "",
             "GT-known at the thresholds chosen on the other fold; MaxBoxAcc: the tag's best over the thresholds.", "",
             "| tag | boxes | AP | GT-known | MaxBoxAcc | whole | centred |", "|---|---|---|---|---|---|---|"]
    for t in sorted(report["per_tag"], key=lambda r: -r["boxes"]):
        lines.append(f"| {t['tag']} | {t['boxes']} | {t['ap']:.3f} | {_pct(t['gt_known'])} | {_pct(t['max_box_acc'])} "
                     f"| {_pct(t['whole'])} | {_pct(t['centred'])} |")
    n = min(int(cfg["examples"]), len(rows))
    if n > 0:
        out.figure("examples.png", _examples(s, parts, pred, rows, n, cv_thr))
        lines += ["", "![examples](examples.png)"]
    lines += ["", "Every box at its fold's chosen threshold, with the true one and their IoU: `boxes.csv`."]
    out.text("report.md", "\n".join(lines) + "\n")
