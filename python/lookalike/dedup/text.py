"""The text side: BM25 over titles (Xapian, Elasticsearch's role) and the learned title encoder
(C++)."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence, Tuple

import torch

from .. import _core
from ..options import make

_d = _core.dedup
tokenize = _d.tokenize


class Bm25Index:
    """BM25 over ``documents``; row i is document i. ``options``: those of C++ ``Bm25Options``
    (``k1``, ``b``, ``language``: Snowball stemmer, ``"none"`` for none)."""

    def __init__(self, documents: Sequence[str], **options: Any):
        docs = _texts(documents, "documents")
        self._index = _d.Bm25Index(docs, make(_d.Bm25Options, options, where="bm25"))

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


class TextEncoder:
    """Title encoder: hashed words + character n-grams -> IDF-weighted embedding bag ->
    projection, trained in C++ with an in-batch contrastive loss (positives: other offers of
    the same training group, or a perturbed copy of the title). ``options``: C++
    ``TextEncoderOptions`` in the flat form (``dim``, ``epochs``, ..., the hash's ``buckets``,
    ``min_n``, ``max_n``, ``words``; ``noise`` as a dict); see ``TextEncoder.defaults()``."""

    def __init__(self, *, _core_encoder: Any = None, **options: Any):
        if _core_encoder is None:
            o = _d.TextEncoderOptions()
            o.update_flat(options, "text")
            _core_encoder = _d.TextEncoder(o)
        self._enc = _core_encoder
        self.history: List[Dict[str, float]] = []

    @staticmethod
    def defaults() -> Dict[str, Any]:
        """Every option with its C++ default (flat form)."""
        return dict(_d.TextEncoderOptions().to_flat_dict())

    def fit(self, texts: Sequence[str], groups: torch.Tensor, train_rows: torch.Tensor) -> "TextEncoder":
        self.history = [dict(h) for h in self._enc.fit(_texts(texts, "texts"), groups, train_rows)]
        return self

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        return self._enc.encode(_texts(texts, "texts"))

    def save(self, path: str | os.PathLike) -> None:
        self._enc.save(str(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TextEncoder":
        return cls(_core_encoder=_d.TextEncoder.load(str(path)))
