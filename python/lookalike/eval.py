"""Retrieval evaluation: exact kNN (FAISS Flat or tiled torch GEMM) and metrics with
pytorch-metric-learning's definitions."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from . import _core
from ._tensors import as_tensor, check_same_kind


def _vectors(x: Any, name: str) -> torch.Tensor:
    return as_tensor(x, name, torch.float32, dim=2)


def retrieval_metrics(query: Any, query_labels: Any, reference: Any = None, reference_labels: Any = None,
                      k: Sequence[int] = (1, 10), *, metric: str = "ip", backend: str = "auto") -> Dict[str, float]:
    """precision_at_1, recall_at_<k> for each k, r_precision, map_at_r (+ num_queries, num_excluded).

    Without ``reference`` the query set is searched against itself, each query's own entry
    excluded. Queries whose label has no reference are left out (counted in num_excluded).

    >>> q = torch.nn.functional.normalize(torch.randn(100, 8), dim=1)
    >>> m = retrieval_metrics(q, torch.arange(100) % 5, k=(1, 5))
    >>> sorted(m)
    ['map_at_r', 'num_excluded', 'num_queries', 'precision_at_1', 'r_precision', 'recall_at_1', 'recall_at_5']
    """
    check_same_kind(query=query, query_labels=query_labels, reference=reference,
                    reference_labels=reference_labels)
    if (reference is None) != (reference_labels is None):
        raise ValueError("give both reference and reference_labels, or neither")
    ks = [int(v) for v in ([k] if isinstance(k, int) else k)]
    q = _vectors(query, "query")
    ql = as_tensor(query_labels, "query_labels", torch.int64, dim=1)
    r = _vectors(reference, "reference") if reference is not None else None
    rl = as_tensor(reference_labels, "reference_labels", torch.int64, dim=1) if reference_labels is not None else None
    out = dict(_core.eval.retrieval_metrics(q, ql, r, rl, ks, metric, backend))
    for key in ("num_queries", "num_excluded"):
        out[key] = int(out[key])
    return out


def exact_knn(query: Any, reference: Any, k: int, *, metric: str = "ip", backend: str = "auto",
              exclude_self: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """(scores float32 ``[nq, k]``, indices int64 ``[nq, k]``), nearest first. ``metric="l2"``
    gives squared distances."""
    check_same_kind(query=query, reference=reference)
    return tuple(_core.eval.exact_knn(_vectors(query, "query"), _vectors(reference, "reference"), int(k),
                                      metric, backend, bool(exclude_self)))
