"""Judging candidates: pair features, the matcher (logistic regression, C++), the comparison of
pipelines' true-positive sets and cluster scores."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from .. import _core
from ..options import make
from .listings import Listings

_d = _core.dedup


def pair_features(pairs: torch.Tensor, items: Listings, *, embeddings: Dict[str, torch.Tensor],
                  candidate_scores: Optional[Dict[str, Tuple[torch.Tensor, torch.Tensor]]] = None,
                  numeric_attrs: Sequence[str] = ("price",)) -> Tuple[torch.Tensor, List[str]]:
    """Features float64 [m, f] of pairs (int64 [m, 2] of rows) and their names: cosine per
    embedding, phash similarity, title Jaccard and length ratio, attribute agreement / numeric
    ratio (C++), plus each pipeline's candidate score where the pair is in its list (else 0)."""
    names = list(embeddings)
    x, feat_names = _d.pair_features(pairs, names, [embeddings[k] for k in names], items.phash, items.titles,
                                     list(items.attrs), [items.attrs[k] for k in items.attrs],
                                     [k in numeric_attrs for k in items.attrs])
    cols, feat_names = [x], list(feat_names)
    for name, (ids, scores) in (candidate_scores or {}).items():
        cols.append(_d.lookup_scores(pairs, ids, scores, 0.0).to(torch.float64).unsqueeze(1))
        feat_names.append(f"score_{name}")
    return torch.cat(cols, 1), feat_names


class Matcher:
    """Logistic regression over pair features (C++ Newton solver, L2 ``l2`` on standardised
    features = sklearn ``C = 1 / l2``) with an operating ``threshold``."""

    def __init__(self, **options: Any):
        """``options``: those of C++ ``MatcherOptions`` (``l2``, ``max_iter``, ``tol``, ``threshold``)."""
        self._m = _d.Matcher(make(_d.MatcherOptions, options, where="matcher"))
        self.feature_names: List[str] = []

    def fit(self, x: torch.Tensor, y: torch.Tensor, feature_names: Sequence[str] = ()) -> "Matcher":
        self._m.fit(x, y)
        self.feature_names = list(feature_names)
        return self

    def choose_threshold(self, x: torch.Tensor, y: torch.Tensor) -> Dict[str, float]:
        """Sets the threshold that maximises F1 on (x, y); returns it with its P/R/F1."""
        c = _d.best_f1_threshold(self.predict_proba(x), y)
        self._m.threshold = c["threshold"]
        return c

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        return self._m.predict_proba(x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self._m.predict(x)

    @property
    def threshold(self) -> float:
        return self._m.threshold

    @threshold.setter
    def threshold(self, t: float) -> None:
        self._m.threshold = float(t)

    @property
    def coef(self) -> torch.Tensor:
        return self._m.coef

    @property
    def intercept(self) -> float:
        return self._m.intercept

    def weights(self) -> Dict[str, float]:
        return dict(zip(self.feature_names, self.coef.tolist()))

    def save(self, path: str | os.PathLike) -> None:
        """Parameters and feature names as JSON (atomic, C++), for ``Matcher.load``."""
        if not self._m.fitted:
            raise ValueError("Matcher.save: not fitted")
        _d.save_matcher(self._m, self.feature_names, os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Matcher":
        """A matcher saved by ``save`` (e.g. trained where ground truth exists, applied where it
        does not). OSError when the file is missing or not a matcher file."""
        m = cls()
        m._m, names = _d.load_matcher(os.fspath(path))
        m.feature_names = list(names)
        return m


def compare_pipelines(candidates: Sequence[torch.Tensor], positive: Sequence[torch.Tensor], query_rows: torch.Tensor,
                      ns: Sequence[int]):
    """True-positive sets of pipelines over the same queries (C++): found pairs per top n,
    their union, the overlap matrix, the Venn region counts and the pairs one pipeline alone
    finds."""
    return _d.compare_pipelines(list(candidates), list(positive), query_rows, [int(n) for n in ns])


def cluster_scores(pred: torch.Tensor, groups: torch.Tensor, rows: Optional[torch.Tensor] = None) -> Dict[str, float]:
    """Mean per-item F1 of predicted vs true group (Shopee's metric) and pairwise P/R/F1."""
    s = _d.cluster_scores(pred, groups, rows)
    return {"mean_f1": s.mean_f1, "pair_precision": s.pair_precision, "pair_recall": s.pair_recall,
            "pair_f1": s.pair_f1}
