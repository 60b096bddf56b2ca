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
