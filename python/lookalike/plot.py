"""Plots of studies (matplotlib, Agg backend)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

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
        rows = rows.sort_values("recall")
        ax.plot(rows["recall"], rows["qps"], "o-", label=spec)
        for _, r in rows.iterrows():
            tag = next((f"{c}={int(r[c])}" for c in ("nprobe", "ef_search")
                        if c in r and r[c] == r[c] and r[c] is not None), "")
            if tag:
                ax.annotate(tag, (r["recall"], r["qps"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{k}")
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
