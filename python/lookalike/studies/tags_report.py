"""The tags study's figures, per_tag.csv, thresholds.json and report.md (text and plots only; the
numbers come from the study)."""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Dict, List

import torch

from .. import eval as ev
from .base import Output


def _pct(v: float) -> str:
    return "–" if v is None or v != v else f"{100 * v:.1f}"


def _per_tag_csv(report: Dict[str, Any]) -> str:
    rows = report["per_tag"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _learning_curves(report, curves, sets):
    import matplotlib.pyplot as plt
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    pos, ap = curves["positives"], curves["ap"]
    names = sets.group_names
    for t in range(pos.shape[1]):
        g = int(sets.group[t])
        axes[0].plot(pos[:, t].clamp_min(0.5), ap[:, t], "-", lw=0.8, alpha=0.6,
                     color=colours[g % len(colours)] if g >= 0 else "lightgrey")
    for g, name in enumerate(names):
        gr = report["curves"]["groups"][name]
        axes[0].plot([max(p, 0.5) for p in gr["median_positives"]], gr["map"], "o-", lw=2.5,
                     color=colours[g % len(colours)], label=f"{name} (mean AP vs median positives)")
    axes[0].axhline(report["curves"]["target_ap"], color="black", ls=":", lw=1)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("positive training photos of the tag")
    axes[0].set_ylabel("test AP")
    axes[0].set_title("per-tag learning curves (thin: one tag)", fontsize=9)
    axes[0].legend(fontsize=7)
    c = report["curves"]
    for g, name in enumerate(names):
        axes[1].plot(c["photos"], [gm[name] for gm in c["group_map"]], "o-", color=colours[g % len(colours)], label=name)
    axes[1].plot(c["photos"], c["map_macro"], "k--", label="all tags")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("training photos")
    axes[1].set_ylabel("test mAP (macro)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _pr_curves(report, sets, runs, main_name):
    import matplotlib.pyplot as plt
    main = runs[main_name]
    scored = [(r[f"ap_{main_name}"], t) for t, r in enumerate(report["per_tag"]) if r[f"ap_{main_name}"] == r[f"ap_{main_name}"]]
    scored.sort()
    pick = scored[-3:][::-1] + scored[:3]
    _, y, known = sets.part("test")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for ap, t in pick:
        m = known[:, t]
        p, r, _ = ev.precision_recall_curve(main["scores"][m, t], y[m, t])
        ax.plot(r, p, label=f"{sets.s.tags[t]} (AP {100 * ap:.1f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"best and worst tags ({main_name}, test)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _loss_scatter(report, runs, main_name):
    import matplotlib.pyplot as plt
    names = [k for k in runs if k != main_name]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for k in names:
        xs = [r[f"ap_{k}"] for r in report["per_tag"]]
        ys = [r[f"ap_{main_name}"] for r in report["per_tag"]]
        ax.scatter(xs, ys, s=12, label=k)
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set_xlabel("per-tag test AP of the other run")
    ax.set_ylabel(f"per-tag test AP, {main_name}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _examples(cfg, sets, main):
    import matplotlib.pyplot as plt
    k = min(int(cfg["examples"]), len(sets.rows["test"]))
    if k <= 0:
        return None
    x, y, _ = sets.part("test")
    pred = ev.apply_thresholds(main["scores"], main["chosen"]["threshold"])
    cols = min(4, k)
    fig, axes = plt.subplots(math.ceil(k / cols), cols, figsize=(3.2 * cols, 3.8 * math.ceil(k / cols)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= k:
            continue
        ax.imshow(x[i].permute(1, 2, 0).numpy())
        true = {sets.s.tags[t] for t in y[i].nonzero().view(-1).tolist()}
        said = {sets.s.tags[t] for t in pred[i].nonzero().view(-1).tolist()}
        lines = [("+ " if t in true else "x ") + t for t in sorted(said)] + ["- " + t for t in sorted(true - said)]
        ax.set_title("\n".join(lines[:8]), fontsize=6, loc="left")
    fig.suptitle("test photos: + right, x wrong, - missed (thresholds chosen on val)", fontsize=8)
    fig.tight_layout()
    return fig


def _overall_table(report: Dict[str, Any]) -> List[str]:
    runs = report["runs"]
    k = next(m for m in next(iter(runs.values())) if m.startswith("precision_at_") and m != "precision_at_1")
    lines = [f"| run | mAP macro | mAP micro | F1 macro | F1 micro | P@1 | {k.replace('precision_at_', 'P@')} | "
             "coverage | train s | img/s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in runs.items():
        lines.append(f"| {name} | {_pct(r['map_macro'])} | {_pct(r['map_micro'])} | {_pct(r['f1_macro'])} | "
                     f"{_pct(r['f1_micro'])} | {_pct(r['precision_at_1'])} | {_pct(r[k])} | {r['coverage']:.2f} | "
                     f"{r['train_s']:.0f} | {r['images_per_s']:.1f} |")
    return lines


def _family_table(report: Dict[str, Any]) -> List[str]:
    runs = report["runs"]
    fams = report["sizes"]["families"]
    lines = ["| family | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for f in fams:
        lines.append(f"| {f} | " + " | ".join(_pct(r["family_map"][f]) for r in runs.values()) + " |")
    return lines


def _report_md(cfg, report) -> str:
    sz, c = report["sizes"], report["curves"]
    main = report["main"]
    lines = [f"# Tags: {cfg['name']}", "",
             f"{sz['photos']} photos ({sz['train']} train / {sz['val']} val / {sz['test']} test), {sz['tags']} tags in "
             f"{len(sz['families'])} families ({', '.join(sz['families'])}); untagged photos kept: {sz['untagged']}; "
             f"left out: {sz['skipped'] or 'none'}. Network: {cfg['net']['backbone']} "
             f"({'pretrained' if cfg['net']['weights'] else 'random'}), exclusive families: "
             f"{cfg['train']['exclusive'] or 'none'}; main loss: {main}. Thresholds: {cfg['thresholds']['rule']} on val.",
             "", "## Test metrics", ""] + _overall_table(report)
    lines += ["", "## mAP per family (macro over its tags, test)", ""] + _family_table(report)
    lines += ["", "## Learning curves", "",
              f"Main loss on nested fractions of the training photos: mAP {', '.join(_pct(m) for m in c['map_macro'])} "
              f"at {', '.join(str(p) for p in c['photos'])} photos.", "",
              f"| group | tags reaching AP {c['target_ap']} | median positives needed | mAP at each size |", "|---|---|---|---|"]
    for g, v in c["groups"].items():
        need = v["positives_needed_median"]
        lines.append(f"| {g} | {_pct(v['share_reaching'])} % | {'never' if need != need else f'{need:.0f}'} | "
                     f"{', '.join(_pct(m) for m in v['map'])} |")
    if report["fusion"]:
        f = report["fusion"]
        fams = [k for k in f["image"]["family_map"] if f["image"]["family_map"][k] == f["image"]["family_map"][k]]
        lines += ["", f"## Image + title (linear probes, {f['tags']} tags not mined from titles, test mAP)", "",
                  "| family | image | title | fused |", "|---|---|---|---|"]
        for k in fams:
            lines.append(f"| {k} | " + " | ".join(_pct(f[m]["family_map"][k]) for m in ("image", "title", "fused")) + " |")
        lines.append("| all | " + " | ".join(_pct(f[m]["map_macro"]) for m in ("image", "title", "fused")) + " |")
    if report.get("search"):
        se = report["search"]
        lines += ["", f"## Tag-aware search (share of the top {se['k']} carrying the tag / sharing the query's "
                  f"{se['relevance_family']}; queries: test photos without the tag, {se['candidates']} candidates)", "",
                  "| tag | queries | plain | filter | rerank | relevance plain | filter | rerank |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in se["tags"]:
            lines.append(f"| {r['tag']} | {r['queries']} | " + " | ".join(
                _pct(r[f"{m}_tag_share"]) for m in ("plain", "filter", "rerank")) + " | " + " | ".join(
                _pct(r[f"{m}_relevance"]) for m in ("plain", "filter", "rerank")) + " |")
    lines += ["", "Per tag: `per_tag.csv`; thresholds: `thresholds.json`; model: `tagger.pt` "
              "(`lookalike.tags.load`).", ""]
    return "\n".join(lines)


def plots_and_report(cfg, report, sets, runs, main_name, curves, out: Output) -> None:
    main = runs[main_name]
    out.text("per_tag.csv", _per_tag_csv(report))
    out.json("thresholds.json", {"tags": sets.s.tags, "rule": cfg["thresholds"],
                                 "threshold": main["chosen"]["threshold"].tolist(),
                                 "val_f1": main["chosen"]["f1"].tolist(),
                                 "fallback": main["chosen"]["fallback"].tolist()})
    out.figure("learning_curves.png", _learning_curves(report, curves, sets))
    out.figure("pr_curves.png", _pr_curves(report, sets, runs, main_name))
    if len(runs) > 1:
        out.figure("ap_by_run.png", _loss_scatter(report, runs, main_name))
    fig = _examples(cfg, sets, main)
    if fig is not None:
        out.figure("examples.png", fig)
    out.text("report.md", _report_md(cfg, report))
