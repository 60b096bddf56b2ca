"""The local re-ranking study's figures and report.md (text and plots only; the numbers come from
the study)."""
from __future__ import annotations

from typing import Any, Dict, List

import torch

from .. import local, plot
from .base import Output

ORDERS = {"global": "global only", "inliers": "re-ranked by inliers", "fused": "fused",
          "cropped": "global, cropped queries"}


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _orders(res: Dict[str, Any]) -> List[str]:
    return [o for o in ORDERS if o in res]


def _table(res: Dict[str, Any], ks: List[int]) -> List[str]:
    cols = [("P@1", "precision_at_1")] + [(f"R@{k}", f"recall_at_{k}") for k in ks if k != 1] + [("MAP@R", "map_at_r")]
    orders = _orders(res)
    head = "| family (queries) | " + " | ".join(f"{c} {o}" for c, _ in cols for o in orders) + " |"
    lines = [head, "|---|" + "---|" * (len(cols) * len(orders))]
    for fam, m in res["global"].items():
        cells = [_fmt(res[o][fam][key]) for _, key in cols for o in orders]
        lines.append(f"| {fam} ({m['num_queries']}) | " + " | ".join(cells) + " |")
    return lines


def _example_rows(sets, n: int) -> List[int]:
    """n query rows, taken from each family in turn (the first of each, then the second, ...)."""
    fams = sets.families or ["all"] * len(sets.queries.labels)
    by = {f: [i for i, x in enumerate(fams) if x == f] for f in sorted(set(fams))}
    rows: List[int] = []
    for depth in range(max(len(v) for v in by.values())):
        rows += [v[depth] for v in by.values() if depth < len(v)]
    return rows[:n]


def _match_figure(sets, reference, queries_f, lists, cfg, n: int):
    """Query photos beside their re-ranked first candidate, inlier matches drawn."""
    import matplotlib.pyplot as plt
    rows = _example_rows(sets, n)
    firsts = lists["reranked"][rows, 0].clamp_min(0)
    ref_f = [lists["features"][int(c)] for c in firsts]
    fig, axes = plt.subplots(len(rows), 1, figsize=(7, 3.4 * len(rows)), squeeze=False)
    verify = cfg["rerank"]["verify"]
    for e, r in enumerate(rows):
        q_img, c = sets.queries.images[r], int(firsts[e])
        c_img = reference.images[c]
        side = torch.cat([q_img, c_img], dim=2).permute(1, 2, 0).numpy()
        ax = axes[e][0]
        ax.imshow(side)
        v = local.verify(queries_f[r], ref_f[e], **verify)
        pts = v.matches.pairs[v.inlier_mask]
        for i, j in pts.tolist()[:80]:
            x0, y0 = queries_f[r].keypoints[i, :2].tolist()
            x1, y1 = ref_f[e].keypoints[j, :2].tolist()
            ax.plot([x0, x1 + q_img.shape[2]], [y0, y1], "-", lw=0.6, color="lime")
        names = sets.class_names
        ax.set_title(f"query: {names[int(sets.queries.labels[r])]}  |  re-ranked first: "
                     f"{names[int(reference.labels[c])]}  ({v.inliers} inliers of {len(v.matches)} matches)",
                     fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


def _crop_figure(sets, boxes: torch.Tensor, n: int):
    """Query photos with their CAM box (the region embedded as the cropped query)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    rows = _example_rows(sets, n)
    fig, axes = plt.subplots(1, len(rows), figsize=(2.6 * len(rows), 2.9), squeeze=False)
    for ax, r in zip(axes[0], rows):
        ax.imshow(sets.queries.images[r].permute(1, 2, 0).numpy())
        x0, y0, x1, y1 = boxes[r].tolist()
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="red", lw=1.5))
        ax.set_title(sets.class_names[int(sets.queries.labels[r])], fontsize=7)
        ax.axis("off")
    fig.suptitle("query photos and their CAM boxes (the cropped queries)", fontsize=9)
    fig.tight_layout()
    return fig


def plots_and_report(cfg: Dict[str, Any], report: Dict[str, Any], sets, refs, queries_f, lists, out: Output,
                     crop_boxes=None) -> None:
    ks, s, net = cfg["eval"]["k"], report["sizes"], cfg["global"]["net"]
    lines = [f"# {cfg['name']}: local matching with geometric verification as re-ranking", "",
             f"Set `{cfg['data']['set']}` at {cfg['data']['image_size']} px: {s['queries']} query photos, "
             f"{s['references']} reference photos, {s['classes']} classes. Global model: "
             f"`{net['backbone']}` (weights `{net['weights'] or 'random'}`, input {net['input_size'] or 'as read'} px)"
             + (" trained on the references" if cfg["global"]["train"] else " as loaded")
             + f". Local features: {cfg['local']['method']}, at most {cfg['local']['max_features']} per image "
             f"(mean {report['mean_query_keypoints']:.0f} per query). "
             f"The top {cfg['rerank']['top_k']} global candidates are verified "
             f"(`{cfg['rerank']['verify']}`) and re-ranked by inliers (at least {cfg['rerank']['min_inliers']}; "
             f"fewer keep the global order after them) or by the fused score "
             f"(global weight {cfg['rerank']['global_weight']}, inlier weight {cfg['rerank']['inlier_weight']}, "
             f"inliers capped at {cfg['rerank']['inlier_cap']}). Metrics are over the top-K lists (MAP@R truncated at K). Seed {cfg['seed']}.", ""]
    if crop_boxes is not None:
        c = cfg["crop"]
        lines += [f"Cropped queries: each query's top class's activation map (a linear probe on the global "
                  f"backbone's pooled features, trained on the references' classes) thresholded at "
                  f"{c.get('threshold', 0.2)} of its range gives a box; the crop, resized to "
                  f"{cfg['data']['image_size']} px, is searched with the global model (the `cropped` order).", ""]
        n = min(max(int(cfg["examples"]), 1) + 2, len(sets.queries.labels))
        out.figure("crops.png", _crop_figure(sets, crop_boxes, n))
        lines += ["![crops](crops.png)", ""]
    for name, res in report["metrics"].items():
        c = res["cost"]
        lines += [f"## Queries against the {name} ({s.get(name, s['references'])} images)", ""]
        lines += _table(res, ks)
        pps = f"{c['pairs_per_s']:.1f}" if c["pairs_per_s"] else "–"
        lines += ["", f"{c['pairs']} verified pairs in {c['verify_s']:.1f} s ({pps} pairs/s on {cfg['threads'] or 'all'} "
                  f"threads; mean {c['mean_reference_keypoints']:.0f} keypoints per reference image).", ""]
        bars = {f"{fam} {ORDERS[o]}": {"P@1": res[o][fam]["precision_at_1"], "MAP@R": res[o][fam]["map_at_r"]}
                for fam in res["global"] for o in _orders(res)}
        out.figure(f"gain_{name}.png", plot.grouped_bars(bars, f"{cfg['name']}: {name}"))
        n = min(int(cfg["examples"]), len(sets.queries.labels))
        if n > 0:
            out.figure(f"matches_{name}.png", _match_figure(sets, refs[name], queries_f, lists[name], cfg, n))
            lines += [f"![matches]({f'matches_{name}.png'})", ""]
    out.text("report.md", "\n".join(lines) + "\n")
