"""Duplicate-product candidates. ``Bm25Index``: Xapian BM25 over titles (the inverted-index
baseline of the duplicate-recall study, Elasticsearch's role in Coupang's).

>>> idx = Bm25Index(["red cotton shirt", "blue cotton shirt", "red wine glass"])
>>> ids, scores = idx.search(["red shirt"], n=2)
>>> ids[0].tolist()
[0, 1]
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch

from . import _core

__all__ = ["Bm25Index"]


class Bm25Index:
    """BM25 (k1, b) over ``documents``; row i is document i. ``language``: Snowball stemmer
    (``"none"`` for none)."""

    def __init__(self, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75, language: str = "english"):
        docs = _texts(documents, "documents")
        self._index = _core.dedup.Bm25Index(docs, float(k1), float(b), language)

    def __len__(self) -> int:
        return self._index.size

    def search(self, queries: Sequence[str], n: int, *, exclude_self: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """(ids int64 [nq, n], scores float32 [nq, n]), best first; id -1 where fewer matched.
        ``exclude_self``: query i is document i and is never its own candidate."""
        return self._index.search(_texts(queries, "queries"), int(n), bool(exclude_self))


def _texts(values: Sequence[str], name: str) -> list:
    out = list(values)
    bad = next((i for i, v in enumerate(out) if not isinstance(v, str)), None)
    if bad is not None:
        raise ValueError(f"{name}[{bad}] is {type(out[bad]).__name__}, expected str")
    return out
