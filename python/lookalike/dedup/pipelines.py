"""Candidate pipelines: each proposes n candidates for every listing (the listing itself
excluded): ``bm25`` (Xapian), ``text`` (title encoder + vector index), ``image`` (CNN embeddings +
vector index), ``phash`` (Hamming distance through a FAISS binary index)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch

from .. import _core
from .listings import Listings
from .text import Bm25Index, TextEncoder

_d = _core.dedup


class Pipeline:
    """A candidate generator: ``fit(listings, train_rows)`` then ``candidates(n)`` -> (ids int64
    [N, n], scores float32 [N, n], higher = more alike) for every row, the row itself excluded.
    ``embeddings`` (float32 [N, d]) when the pipeline has them (matcher features, clustering)."""

    name = "?"
    embeddings: Optional[torch.Tensor] = None
    known: Optional[Tuple[str, ...]] = None  # option names (None: checked by what they feed)

    def __init__(self, **options: Any):
        if self.known is not None:
            bad = sorted(set(options) - set(self.known))
            if bad:
                raise ValueError(f"pipeline '{self.name}': unknown option(s) {bad}; known: {sorted(self.known)}")
        self.options = options
        self.info: Dict[str, Any] = {}

    def fit(self, items: Listings, train_rows: torch.Tensor) -> "Pipeline":
        self.items = items
        return self

    def candidates(self, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class Bm25Pipeline(Pipeline):
    name = "bm25"
    known = tuple(_d.Bm25Options.fields())

    def candidates(self, n):
        idx = Bm25Index(self.items.texts, **self.options)
        return idx.search(self.items.texts, n, exclude_self=True)


class _VectorPipeline(Pipeline):
    def candidates(self, n):
        from ..index import Index

        x = self.embeddings
        index = Index(x.shape[1], spec=self.options.get("index", "Flat"), metric="ip")
        if not index.is_trained:
            index.train(x)
        index.add(x, torch.arange(x.shape[0]))
        scores, ids = index.search(x, min(len(x), n + 1), **self.options.get("search", {}))
        return _d.drop_self(ids, scores, n)


class TextPipeline(_VectorPipeline):
    name = "text"
    known = tuple(_d.TextEncoderOptions().to_flat_dict()) + ("index", "search")

    def fit(self, items, train_rows):
        super().fit(items, train_rows)
        o = {k: v for k, v in self.options.items() if k not in ("index", "search")}
        enc = TextEncoder(**o)
        groups = items.groups if items.groups is not None else torch.arange(len(items))
        enc.fit(items.texts, groups, train_rows)
        self.encoder = enc
        self.info["history"] = enc.history
        self.embeddings = enc.encode(items.texts)
        return self


class ImagePipeline(_VectorPipeline):
    name = "image"

    def fit(self, items, train_rows):
        from .. import train

        super().fit(items, train_rows)
        if items.images is None:
            raise ValueError("pipeline 'image' needs listings with images")
        o = dict(self.options)
        label = o.pop("label", "group")
        o.pop("index", None), o.pop("search", None)
        if label == "group":
            values = items.groups[train_rows]
        elif label in items.attrs:
            col = items.attrs[label]
            values = _core.dedup.group_labels([col[i] for i in train_rows.tolist()], len(train_rows))
        else:
            raise ValueError(f"image.label '{label}': expected 'group' or an attribute column {list(items.attrs)}")
        _, y = torch.unique(values, return_inverse=True)
        r = train.fit(items.images[train_rows], y, **o)
        self.info.update(history=r.history, classes=int(y.max()) + 1, label=label)
        self.model = r.model
        self.embeddings = r.model.embed(items.images, device=o.get("device", "cpu"))
        return self


class PhashPipeline(Pipeline):
    name = "phash"
    known = ()

    def candidates(self, n):
        if self.items.phash is None:
            raise ValueError("pipeline 'phash' needs listings with a phash column")
        ids, bits = _d.hamming_candidates(self.items.phash, int(n))
        return ids, 1.0 - bits / 64.0  # similarity: higher is nearer, like the other pipelines


PIPELINES = {"bm25": Bm25Pipeline, "text": TextPipeline, "image": ImagePipeline, "phash": PhashPipeline}


def make_pipeline(name: str, **options: Any) -> Pipeline:
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline '{name}'; known: {sorted(PIPELINES)}")
    return PIPELINES[name](**options)


def pipelines() -> list:
    """The pipeline names ``make_pipeline`` takes."""
    return sorted(PIPELINES)
