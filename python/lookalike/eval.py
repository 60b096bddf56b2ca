"""Retrieval evaluation: exact kNN (FAISS Flat or tiled torch GEMM) and metrics with
pytorch-metric-learning's definitions."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from . import _core
from .options import make
from ._tensors import as_tensor, check_same_kind


def _vectors(x: Any, name: str) -> torch.Tensor:
    return as_tensor(x, name, torch.float32, dim=2)


def retrieval_metrics(query: Any, query_labels: Any, reference: Any = None, reference_labels: Any = None,
                      k: Optional[Sequence[int]] = None, **options: Any) -> Dict[str, float]:
    """Each chosen metric's keys (by default precision_at_1, recall_at_<k> for each k,
    r_precision, map_at_r) + num_queries, num_excluded.

    ``k``: the ks of recall_at_k; ``options``: the other ``RetrievalOptions`` fields (``metrics``
    by name from :func:`metrics`, ``metric`` "ip" | "l2", ``backend``, ``max_entries``), with
    the C++ defaults.

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
    if k is not None:
        options["ks"] = [int(v) for v in ([k] if isinstance(k, int) else k)]
    q = _vectors(query, "query")
    ql = as_tensor(query_labels, "query_labels", torch.int64, dim=1)
    r = _vectors(reference, "reference") if reference is not None else None
    rl = as_tensor(reference_labels, "reference_labels", torch.int64, dim=1) if reference_labels is not None else None
    o = make(_core.eval.RetrievalOptions, options, where="retrieval_metrics")
    out = dict(_core.eval.retrieval_metrics(q, ql, r, rl, o))
    for key in ("num_queries", "num_excluded"):
        out[key] = int(out[key])
    return out


def ranked_metrics(ids: Any, query_labels: Any, reference_labels: Any, k: Optional[Sequence[int]] = None,
                   **options: Any) -> Dict[str, float]:
    """The retrieval metrics of ranked lists given here (e.g. re-ranked ones): ``ids`` int64
    ``[nq, K]`` rows of the reference set (-1: none). R counts every reference with the query's
    label; ranks past K count as not relevant (MAP@R of the list truncated at K).

    >>> ranked_metrics(torch.tensor([[1, 0, 2]]), torch.tensor([7]), torch.tensor([7, 3, 7]), k=(1,))["map_at_r"]
    0.25
    """
    if k is not None:
        options["ks"] = [int(v) for v in ([k] if isinstance(k, int) else k)]
    o = make(_core.eval.RetrievalOptions, options, where="ranked_metrics")
    out = dict(_core.eval.ranked_metrics(as_tensor(ids, "ids", torch.int64, dim=2),
                                         as_tensor(query_labels, "query_labels", torch.int64, dim=1),
                                         as_tensor(reference_labels, "reference_labels", torch.int64, dim=1), o))
    for key in ("num_queries", "num_excluded"):
        out[key] = int(out[key])
    return out


def metrics() -> list:
    """The retrieval metrics by name (the C++ registry, ``cpp/src/eval/metrics/``)."""
    return list(_core.eval.metrics())


def exact_knn(query: Any, reference: Any, k: int, *, metric: str = "ip", backend: str = "auto",
              exclude_self: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """(scores float32 ``[nq, k]``, indices int64 ``[nq, k]``), nearest first. ``metric="l2"``
    gives squared distances."""
    check_same_kind(query=query, reference=reference)
    o = make(_core.eval.KnnOptions, metric=metric, backend=backend, exclude_self=bool(exclude_self))
    return tuple(_core.eval.exact_knn(_vectors(query, "query"), _vectors(reference, "reference"), int(k), o))


def ground_truth(base: Any, queries: Any, k: int, *, metric: str = "ip",
                 cache_dir: Optional[str] = None) -> torch.Tensor:
    """Exact k nearest base rows (int64 ``[nq, k]``) from the exact engine, cached in
    ``cache_dir`` under a hash of the data, k and metric (recomputed when anything differs)."""
    import hashlib
    import io
    import os

    b, q = _vectors(base, "base"), _vectors(queries, "queries")
    path = None
    if cache_dir is not None:
        h = hashlib.sha1()
        for t in (b, q):
            h.update(str(tuple(t.shape)).encode())
            h.update(t.cpu().contiguous().numpy().tobytes())
        h.update(f"k={int(k)} metric={metric}".encode())
        path = os.path.join(os.fspath(cache_dir), f"gt-{h.hexdigest()[:20]}.pt")
        if os.path.exists(path):
            return torch.load(path)
    ids = exact_knn(q, b, int(k), metric=metric)[1]
    if path is not None:
        buf = io.BytesIO()
        torch.save(ids, buf)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _core.write_file_atomic(path, buf.getvalue())
    return ids


def sweep(index_specs: Sequence[str], params: Optional[Dict[str, Sequence[Dict[str, int]]]], base: Any,
          queries: Any, ground_truth_ids: Any = None, k: int = 10, *, metric: str = "ip",
          train: Any = None, cache_dir: Optional[str] = None, latency_queries: int = 1000,
          progress: str = "auto"):
    """Recall/speed table, one row per (index spec, search parameters), ann-benchmarks style.

    Each spec is built once (train on ``train`` or ``base``, then add ``base`` with ids
    ``0..n-1``; build time and index bytes recorded), then searched at every parameter set in
    ``params[spec]`` (dicts of ``nprobe`` / ``ef_search``; ``[{}]`` when absent). Columns:
    spec, nprobe, ef_search, neighbour_recall (share of the exact k nearest found), qps (one batch of
    all queries), p50_ms / p90_ms / p99_ms (single-query latency over ``latency_queries``),
    build_s, memory_bytes. Ground truth comes from :func:`ground_truth` when not given. ``base`` is
    added in tenths; ``progress`` (auto | bar | lines | off, see :mod:`lookalike.progress`) reports
    the build and the settings as they go.
    """
    import time

    from .progress import Progress

    import pandas as pd

    from .index import Index

    b, q = _vectors(base, "base"), _vectors(queries, "queries")
    if ground_truth_ids is None:
        gt = ground_truth(b, q, k, metric=metric, cache_dir=cache_dir)
    else:
        gt = as_tensor(ground_truth_ids, "ground_truth_ids", torch.int64, dim=2)
    params = dict(params or {})
    unknown = set(params) - set(index_specs)
    if unknown:
        raise ValueError(f"sweep: params given for specs not swept: {sorted(unknown)}")
    rows = []
    n = b.shape[0]
    for spec in index_specs:
        t0 = time.perf_counter()
        index = Index(b.shape[1], spec, metric=metric)
        with Progress(1, f"sweep {spec}: train", progress):
            index.train(b if train is None else _vectors(train, "train"))
        # Added in tenths so a long build (HNSW on 1M: minutes) shows its ETA.
        step = max(1, -(-n // 10))
        with Progress(n, f"sweep {spec}: add", progress) as bar:
            for s in range(0, n, step):
                index.add(b[s:s + step], torch.arange(s, min(n, s + step), dtype=torch.int64))
                bar.update(min(n, s + step))
        build_s = time.perf_counter() - t0
        memory = index.memory_bytes()
        settings = params.get(spec, [{}])
        with Progress(len(settings), f"sweep {spec}: search settings", progress) as bar:
            for i, p in enumerate(settings):
                sp = make(_core.index.SearchParams, p, where=f"sweep params of {spec!r}")
                m = _core.index.measure_search(index._index, q, gt, int(k), sp, int(latency_queries))
                rows.append({"spec": spec, "nprobe": p.get("nprobe"), "ef_search": p.get("ef_search"), **m,
                             "build_s": build_s, "memory_bytes": memory})
                bar.update(i + 1)
    return pd.DataFrame(rows)


def prf(predicted: Any, actual: Any, *, zero_division: float = 0.0) -> Dict[str, float]:
    """Precision, recall and F1 of bool masks (the one C++ definition, equal to scikit-learn's
    ``precision_recall_fscore_support`` for the positive class), with the counts.

    >>> prf(torch.tensor([True, True, False]), torch.tensor([True, False, True]))["f1"]
    0.5
    """
    check_same_kind(predicted=predicted, actual=actual)
    p = as_tensor(predicted, "predicted").to(torch.bool)
    a = as_tensor(actual, "actual").to(torch.bool)
    return dict(_core.eval.prf(p, a, float(zero_division)))


def average_precision(scores: Any, targets: Any) -> float:
    """AP of scores ``[N]`` against 0/1 targets ``[N]`` (C++; equal to scikit-learn's
    ``average_precision_score``); NaN when no target is positive.

    >>> average_precision(torch.tensor([0.9, 0.8, 0.7]), torch.tensor([1, 0, 1]))
    0.8333333333333333
    """
    check_same_kind(scores=scores, targets=targets)
    return float(_core.eval.average_precision(as_tensor(scores, "scores").float(), as_tensor(targets, "targets")))


def average_precision_per_column(scores: Any, targets: Any, known: Any = None) -> torch.Tensor:
    """Per-column AP of scores ``[N, K]`` against targets ``[N, K]``: float ``[K]`` (NaN for a
    column without a positive); ``known`` bool ``[N, K]`` keeps only the entries whose target is
    known (``lookalike.tags.known``)."""
    check_same_kind(scores=scores, targets=targets)
    return _core.eval.average_precision_per_column(as_tensor(scores, "scores").float(), as_tensor(targets, "targets"),
                                                   _known(known))


def mean_average_precision(scores: Any, targets: Any, known: Any = None) -> Dict[str, float]:
    """``{"macro", "micro", "columns"}``: the mean of the per-column APs (columns with a positive)
    and the AP of all (score, target) pairs ranked together (the ``known`` ones)."""
    check_same_kind(scores=scores, targets=targets)
    return dict(_core.eval.mean_average_precision(as_tensor(scores, "scores").float(), as_tensor(targets, "targets"),
                                                  _known(known)))


def _known(known: Any) -> Optional[torch.Tensor]:
    return None if known is None else as_tensor(known, "known", torch.bool, dim=2)


def f1_per_column(predictions: Any, targets: Any) -> torch.Tensor:
    """F1 per column of 0/1 predictions ``[N, K]`` against targets (scikit-learn's ``f1_score``
    with ``average=None, zero_division=0``): float ``[K]``."""
    return _core.eval.f1_per_column(as_tensor(predictions, "predictions", dim=2), as_tensor(targets, "targets", dim=2))


def f1_scores(predictions: Any, targets: Any) -> Dict[str, float]:
    """``{"macro", "micro", "precision", "recall", "predicted_per_photo"}`` of 0/1 predictions."""
    return dict(_core.eval.f1_scores(as_tensor(predictions, "predictions", dim=2), as_tensor(targets, "targets", dim=2)))


def precision_at_k(scores: Any, targets: Any, k: int) -> float:
    """Mean share of true tags among each photo's ``k`` highest scores (ties: lower column first)."""
    return float(_core.eval.precision_at_k(as_tensor(scores, "scores", dim=2).float(), as_tensor(targets, "targets", dim=2),
                                           int(k)))


def coverage_error(scores: Any, targets: Any) -> float:
    """scikit-learn's ``coverage_error``: how far down each photo's ranking all its true tags are."""
    return float(_core.eval.coverage_error(as_tensor(scores, "scores", dim=2).float(), as_tensor(targets, "targets", dim=2)))


def apply_thresholds(scores: Any, thresholds: Any) -> torch.Tensor:
    """0/1 float ``[N, K]``: scores ``[N, K]`` >= thresholds ``[K]``."""
    return _core.eval.apply_thresholds(as_tensor(scores, "scores", dim=2).float(),
                                       as_tensor(thresholds, "thresholds", dim=1).float())


def choose_thresholds(scores: Any, targets: Any, **options: Any) -> Dict[str, torch.Tensor]:
    """Per-column thresholds from validation scores and targets (``rule`` f1 | precision,
    ``precision``, ``fallback``): ``{"threshold", "f1", "precision", "recall", "fallback"}``."""
    o = make(_core.eval.ThresholdOptions, options, where="thresholds")
    return dict(_core.eval.choose_thresholds(as_tensor(scores, "scores", dim=2).float(),
                                             as_tensor(targets, "targets", dim=2), o))


def precision_recall_curve(scores: Any, targets: Any) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(precision, recall, threshold) float ``[P]``: one point per distinct score, highest first
    (scikit-learn's ``precision_recall_curve`` reversed, without its final (1, 0) point)."""
    return tuple(_core.eval.precision_recall_curve(as_tensor(scores, "scores", dim=1).float(),
                                                   as_tensor(targets, "targets", dim=1)))


def group_mean(values: Any, groups: Any, g: int) -> torch.Tensor:
    """float ``[G]``: the mean of values ``[T]`` per group (groups int64 ``[T]`` in [0, G), -1: none;
    NaN skipped)."""
    return _core.eval.group_mean(as_tensor(values, "values", dim=1).float(), as_tensor(groups, "groups", torch.int64, 1),
                                 int(g))


def summarise_curves(positives: Any, ap: Any, groups: Any, g: int, target: float) -> Dict[str, torch.Tensor]:
    """Per-tag learning curves (positives and AP float ``[F, T]`` at F training sizes) by group:
    ``group_ap``, ``group_positives`` ``[G, F]``, ``tag_needed`` ``[T]`` (positives to reach
    ``target`` AP, interpolated in log(1 + positives); NaN: never), ``group_needed``,
    ``group_reached`` ``[G]``."""
    return dict(_core.eval.summarise_curves(as_tensor(positives, "positives", dim=2).float(),
                                            as_tensor(ap, "ap", dim=2).float(),
                                            as_tensor(groups, "groups", torch.int64, 1), int(g), float(target)))
