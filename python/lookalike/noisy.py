"""Noisy labels: seeded noise simulation and confident learning (C++ core).

>>> import torch
>>> y = torch.arange(10000) % 10
>>> noisy, corrupted, T, rate = inject_noise(y, kind="symmetric", rate=0.2, seed=0)
>>> round(rate, 3)
0.2
"""
from __future__ import annotations

from typing import Any, Tuple

import torch

from . import _core
from .options import make
from ._tensors import as_tensor, check_same_kind

__all__ = ["class_thresholds", "filters", "confident_joint", "cross_val_pred_probs", "estimate_noise_rate",
           "find_label_issues", "inject_noise", "rank_by_self_confidence", "realised_transition"]


def _labels(x: Any, name: str = "labels") -> torch.Tensor:
    return as_tensor(x, name, torch.int64, dim=1)


def _probs(x: Any) -> torch.Tensor:
    t = as_tensor(x, "pred_probs", dim=2)
    if not t.is_floating_point():
        raise ValueError(f"pred_probs: expected a float tensor, got {t.dtype}")
    return t


def inject_noise(labels: Any, *, transition: Any = None, features: Any = None,
                 **options: Any) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Corrupts labels; returns (noisy_labels, is_corrupted, transition, realised_rate).

    kind: ``symmetric`` (to a uniformly random other class), ``pairflip`` (c -> c+1 mod C),
    ``asymmetric`` (``transition[i][j] = P(j | i)``, rows sum to 1) or ``instance`` (flip
    probability from the sample's ``features`` [N, D], Xia et al. 2020). The class-conditional
    kinds are exact: class i sends round(T[i][j] n_i) samples to j (largest remainders).
    ``transition`` in the result is the asked matrix (the expected one for ``instance``).
    ``options``: the other ``NoiseOptions`` fields (``kind``, ``rate``, ``num_classes``,
    ``seed``, ``instance_std``), with the C++ defaults (``defaults(_core.noisy.NoiseOptions)``).
    """
    y = _labels(labels)
    t = None if transition is None else as_tensor(transition, "transition", dim=2).to(torch.float64)
    f = None if features is None else as_tensor(features, "features")
    if f is not None:
        f = f.reshape(f.shape[0], -1).to(torch.float32)
    o = make(_core.noisy.NoiseOptions, options, where="inject_noise")
    if t is not None:
        o.transition = t
    if f is not None:
        o.features = f
    noisy, corrupted, T, rate = _core.noisy.inject_noise(y, o)
    return noisy, corrupted, T, float(rate)


def realised_transition(clean: Any, noisy: Any, num_classes: int = 0) -> torch.Tensor:
    """T[i][j] = share of clean class i labelled j (float64 [C, C])."""
    check_same_kind(clean=clean, noisy=noisy)
    return _core.noisy.realised_transition(_labels(clean, "clean"), _labels(noisy, "noisy"), int(num_classes))


def class_thresholds(labels: Any, pred_probs: Any) -> torch.Tensor:
    return _core.noisy.class_thresholds(_labels(labels), _probs(pred_probs))


def confident_joint(labels: Any, pred_probs: Any, *, calibrate: bool = False) -> torch.Tensor:
    """C[i][j]: samples labelled i confidently in class j (calibrated: float, sums to N)."""
    return _core.noisy.confident_joint(_labels(labels), _probs(pred_probs), bool(calibrate))


def estimate_noise_rate(labels: Any, pred_probs: Any) -> float:
    """Share of wrong labels estimated from the calibrated confident joint (a default for tau
    on real data)."""
    return float(_core.noisy.estimate_noise_rate(_labels(labels), _probs(pred_probs)))


def find_label_issues(labels: Any, pred_probs: Any, *, filter_by: str = "prune_by_noise_rate",
                      frac_noise: float = 1.0) -> torch.Tensor:
    """bool [N]: samples whose given label is likely wrong (confident learning).

    filter_by: ``prune_by_noise_rate`` | ``prune_by_class`` | ``both`` | ``confident_learning``
    (see cpp/include/lookalike/noisy/confident.h). ``pred_probs``: out-of-fold probabilities,
    e.g. from :func:`cross_val_pred_probs`.
    """
    check_same_kind(labels=labels, pred_probs=pred_probs)
    return _core.noisy.find_label_issues(_labels(labels), _probs(pred_probs), filter_by, float(frac_noise))


def rank_by_self_confidence(labels: Any, pred_probs: Any) -> torch.Tensor:
    """Sample indices, least confident in their given label first."""
    return _core.noisy.rank_by_self_confidence(_labels(labels), _probs(pred_probs))


def cross_val_pred_probs(images: Any, labels: Any, *, folds: int = 4, seed: int = 0,
                         **options: Any) -> torch.Tensor:
    """Out-of-fold softmax probabilities (float32 [N, C]) by K-fold cross-training of the C++
    Trainer (stratified, seeded folds). ``options``: training options as for lookalike.fit."""
    from .train import _images, make_options

    check_same_kind(images=images, labels=labels)
    opts = make_options(**{"progress": "off", **options})
    return _core.noisy.cross_val_pred_probs(_images(images), _labels(labels), int(folds), opts, int(seed))


def filters() -> list:
    """The noisy-label filter names ``fit(filter=...)`` takes, from the C++ registry."""
    return list(_core.noisy.filters())
