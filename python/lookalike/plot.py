"""Plots of studies (matplotlib, Agg backend)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def training_curves(history: List[Dict[str, float]], title: str = "training"):
    """Loss and accuracy per epoch (train, and val when present). Returns the figure."""
    plt = _plt()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = [h["epoch"] for h in history]
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], "o-", label=f"train {key}")
        if history and f"val_{key}" in history[0]:
            ax.plot(epochs, [h[f"val_{key}"] for h in history], "s--", label=f"val {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def embedding_pca(embeddings: torch.Tensor, labels: torch.Tensor, class_names: Optional[Sequence[str]] = None,
                  max_points: int = 3000, seed: int = 0, title: str = "embeddings (PCA)"):
    """2-d PCA (torch.pca_lowrank) of a seeded sample of embeddings, coloured by label."""
    plt = _plt()
    g = torch.Generator().manual_seed(seed)
    n = embeddings.shape[0]
    idx = torch.randperm(n, generator=g)[: min(max_points, n)]
    x = embeddings[idx].float()
    y = labels[idx]
    u, s, v = torch.pca_lowrank(x, q=2, center=True)
    xy = (x - x.mean(0)) @ v[:, :2]
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    for c in torch.unique(y).tolist():
        m = y == c
        name = class_names[c] if class_names is not None and c < len(class_names) else str(c)
        ax.scatter(xy[m, 0], xy[m, 1], s=4, alpha=0.6, label=name)
    ax.legend(markerscale=3, fontsize=7, loc="best")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def recall_qps(table, k: int = 10, title: str = "recall vs throughput"):
    """ann-benchmarks style: recall@k (x) against queries per second (y, log), one line per
    index spec, points labelled with their search parameter. ``table``: lookalike.eval.sweep."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for spec, rows in table.groupby("spec", sort=False):
        rows = rows.sort_values("neighbour_recall")
        ax.plot(rows["neighbour_recall"], rows["qps"], "o-", label=spec)
        for _, r in rows.iterrows():
            tag = next((f"{c}={int(r[c])}" for c in ("nprobe", "ef_search")
                        if c in r and r[c] == r[c] and r[c] is not None), "")
            if tag:
                ax.annotate(tag, (r["neighbour_recall"], r["qps"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_xlabel(f"neighbour recall@{k} (true k nearest found)")
    ax.set_ylabel("queries / s")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def noisy_curves(runs, key: str, ylabel: str, clean_runs=None):
    """One panel per noise setting, one line per strategy (mean over seeds) of ``run[key]``
    per epoch; the clean-label run, when given, as a dashed reference."""
    plt = _plt()
    settings = list(dict.fromkeys(r["noise"] for r in runs))
    fig, axes = plt.subplots(1, max(1, len(settings)), figsize=(4.2 * max(1, len(settings)), 3.6), squeeze=False)
    for ax, s in zip(axes[0], settings):
        for strategy in dict.fromkeys(r["strategy"] for r in runs):
            curves = [r[key] for r in runs if r["noise"] == s and r["strategy"] == strategy]
            curves = [c for c in curves if c and c[0] is not None]
            if not curves:
                continue
            mean = [sum(v) / len(v) for v in zip(*curves)]
            ax.plot(range(1, len(mean) + 1), mean, "-", label=strategy)
        if clean_runs and key == "accuracy_curve":
            mean = [sum(v) / len(v) for v in zip(*[r[key] for r in clean_runs])]
            ax.plot(range(1, len(mean) + 1), mean, "k--", label="clean labels")
        ax.set_title(s)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def recall_at_n(recall: Dict[str, Dict[str, float]], title: str = "recall@n",
                ylabel: str = "recall of true duplicate pairs"):
    """recall[pipeline][str(n)] (or counts, with another ``ylabel``) as lines over n (log x);
    the union dashed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in recall.items():
        ns = sorted(int(n) for n in r)
        ax.plot(ns, [r[str(n)] for n in ns], "k--o" if name == "union" else "-o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("n (candidates per query)")
    ax.set_ylabel(ylabel)
    if all(v <= 1 for r in recall.values() for v in r.values()):
        ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def overlap_matrix(names: Sequence[str], share: Sequence[Sequence[float]], title: str = "overlap of true positives"):
    """share[a][b]: fraction of pipeline a's true positives that pipeline b also finds."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2.5, 1.1 * len(names) + 1.8))
    im = ax.imshow(share, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("also found by")
    ax.set_ylabel("true positives of")
    for a in range(len(names)):
        for b in range(len(names)):
            ax.text(b, a, f"{share[a][b]:.2f}", ha="center", va="center", color="w" if share[a][b] < 0.6 else "k")
    fig.colorbar(im, ax=ax)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def venn(names: Sequence[str], regions: Dict[str, int], title: str = "true positives by pipeline"):
    """Pairs found by exactly each combination of pipelines (``regions``: "a&b" -> count).
    Circles for 2 or 3 pipelines; bars (UpSet-style) beside them for any number."""
    plt = _plt()
    circles = len(names) in (2, 3)
    fig, axes = plt.subplots(1, 2 if circles else 1, figsize=(11 if circles else 6, 4.2), squeeze=False)
    bar_ax = axes[0][-1]
    items = sorted(regions.items(), key=lambda kv: -kv[1])
    bar_ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1])
    bar_ax.set_xlabel("true-positive pairs found by exactly these pipelines")
    if circles:
        from matplotlib.patches import Circle

        ax = axes[0][0]
        centres = [(-0.5, 0.0), (0.5, 0.0)] if len(names) == 2 else [(-0.5, 0.3), (0.5, 0.3), (0.0, -0.5)]
        for (cx, cy), name, colour in zip(centres, names, ("tab:blue", "tab:orange", "tab:green")):
            ax.add_patch(Circle((cx, cy), 0.9, alpha=0.3, color=colour))
            ax.text(cx * 1.9, cy * 1.9 + (0.15 if cy >= 0 else -0.15), name, ha="center", fontsize=11, weight="bold")
        for key, count in regions.items():
            members = [names.index(m) for m in key.split("&")]
            x = sum(centres[m][0] for m in members) / len(members)
            y = sum(centres[m][1] for m in members) / len(members)
            if len(members) == 1:  # push single-pipeline counts away from the middle
                x, y = x * 1.45, y * 1.45
            ax.text(x, y, str(count), ha="center", va="center", fontsize=10)
        ax.set_xlim(-1.8, 1.8)
        ax.set_ylim(-1.6, 1.6)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def score_histograms(panels: Dict[str, Dict[str, Sequence[float]]], title: str = "scores of pairs one pipeline alone finds"):
    """panels[label][feature] -> values: one row per label (e.g. "only text"), one column per
    feature (e.g. cos_text, title_jaccard)."""
    plt = _plt()
    labels = list(panels)
    feats = list(dict.fromkeys(f for p in panels.values() for f in p))
    fig, axes = plt.subplots(max(1, len(labels)), max(1, len(feats)), figsize=(3.2 * max(1, len(feats)), 2.4 * max(1, len(labels))),
                             squeeze=False)
    for i, lab in enumerate(labels):
        for j, f in enumerate(feats):
            ax = axes[i][j]
            v = list(panels[lab].get(f, []))
            if v:
                ax.hist(v, bins=20, color="tab:blue", alpha=0.8)
            ax.set_title(f"{lab}: {f} (n={len(v)})", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_pairs(images: torch.Tensor, pairs: Sequence[Tuple[int, int]], captions: Sequence[str], title: str = ""):
    """Rows of image pairs (uint8 [N, 3, S, S] indexed by the pair's rows) with captions."""
    plt = _plt()
    rows = max(1, len(pairs))
    fig, axes = plt.subplots(rows, 2, figsize=(5, 2.4 * rows), squeeze=False)
    for r, ((a, b), cap) in enumerate(zip(pairs, captions)):
        for c, idx in enumerate((a, b)):
            axes[r][c].imshow(images[idx].permute(1, 2, 0).numpy())
            axes[r][c].axis("off")
        axes[r][0].set_title(cap, fontsize=7, loc="left")
    for r in range(len(pairs), rows):
        for c in range(2):
            axes[r][c].axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def grouped_bars(values: Dict[str, Dict[str, float]], title: str = "", ylabel: str = "score"):
    """values[row][metric] as bars grouped by metric, one colour per row (0..1 scores)."""
    plt = _plt()
    rows = list(values)
    metrics = list(values[rows[0]]) if rows else []
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(metrics) * max(1, len(rows)) / 2), 4))
    width = 0.8 / max(1, len(rows))
    for i, row in enumerate(rows):
        xs = [m + (i - (len(rows) - 1) / 2) * width for m in range(len(metrics))]
        ax.bar(xs, [values[row].get(k, 0.0) or 0.0 for k in metrics], width, label=row)
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels(metrics, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.0)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def metric_curves(histories: Dict[str, List[Dict[str, float]]], key: str, title: str = ""):
    """history[key] per epoch, one line per run (runs without the key are left out)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, h in histories.items():
        pts = [(r["epoch"], r[key]) for r in h if key in r]
        if pts:
            ax.plot(*zip(*pts), "o-", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    return fig
