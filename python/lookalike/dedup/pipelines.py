"""Candidate pipelines by name (the C++ registry, ``cpp/src/dedup/pipelines/``): each proposes n
candidates for every listing, the listing itself excluded — ``bm25`` (Xapian), ``text`` (title
encoder + vector index), ``image`` (the Trainer's CNN + vector index), ``phash`` (Hamming
distance through a FAISS binary index).

>>> sorted(pipelines())
['bm25', 'image', 'phash', 'text']
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch

from .. import _core
from .listings import Listings, to_core

_d = _core.dedup


class Pipeline:
    """A candidate generator: ``fit(listings, train_rows)`` then ``candidates(n)`` -> (ids int64
    [N, n], scores float32 [N, n], higher = more alike) for every row, the row itself excluded.
    ``embeddings`` (float32 [N, d]) when the pipeline has them (matcher features, clustering);
    ``info`` what fitting recorded. Options are checked by C++ (an unknown name is an error)."""

    def __init__(self, name: str, **options: Any):
        self.name = name
        self.options = options
        self._p = _d.make_pipeline(name, options)
        self.embeddings: Optional[torch.Tensor] = None
        self.info: Dict[str, Any] = {}

    def fit(self, items: Listings, train_rows: torch.Tensor) -> "Pipeline":
        groups = items.groups if items.groups is not None else torch.arange(len(items))
        self._p.fit(to_core(items), groups, train_rows)
        self.items = items
        self.embeddings = self._p.embeddings()
        self.info = dict(self._p.info())
        return self

    def candidates(self, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return self._p.candidates(int(n))


def pipelines() -> list:
    """The pipeline names ``make_pipeline`` takes (the C++ registry's)."""
    return list(_d.pipelines())


PIPELINES = tuple(pipelines())


def make_pipeline(name: str, **options: Any) -> Pipeline:
    return Pipeline(name, **options)
