"""Local features, matching, geometric verification and re-ranking (the C++ core:
``cpp/include/lookalike/local/``). Options are the C++ structs' (``LocalOptions``,
``MatchOptions``, ``VerifyOptions``, ``RerankOptions``), given as keywords; nested ones as dicts.

>>> import torch
>>> from lookalike import local
>>> local.extractors()
['akaze', 'cnn', 'orb', 'sift']
>>> g = torch.Generator().manual_seed(0)
>>> photo = (torch.rand(1, 3, 96, 96, generator=g) * 255).to(torch.uint8)
>>> a, b = local.extract(torch.cat([photo, photo]), method="orb")
>>> v = local.verify(a, b)
>>> v.inliers == len(v.matches) > 0          # the same image: every match an inlier
True
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import torch

from . import _core
from ._tensors import as_tensor
from .options import make

__all__ = ["LocalFeatures", "extractors", "extract", "match", "verify", "verify_pairs", "rerank",
           "save_features", "load_features", "min_matches"]

LocalFeatures = _core.local.LocalFeatures


def extractors() -> List[str]:
    """The local feature methods (C++ registry)."""
    return list(_core.local.extractors())


def _images(images: Any) -> torch.Tensor:
    images = getattr(images, "images", images)  # an ImageSet or Catalog
    return as_tensor(images, "images", torch.uint8, dim=4)


def extract(images: Any, **options: Any) -> List[LocalFeatures]:
    """Local features of each image: ``images`` uint8 ``[N, 3, H, W]`` RGB (or an ImageSet);
    ``options``: LocalOptions (``method``, ``max_features``, ``max_side``, ``net`` for cnn, ...)."""
    return _core.local.extract(_images(images), make(_core.local.LocalOptions, options, where="local"))


def match(a: LocalFeatures, b: LocalFeatures, **options: Any):
    """Mutual nearest neighbours passing the ratio test: ``.pairs`` int64 [M, 2], ``.distances``."""
    return _core.local.match(a, b, make(_core.local.MatchOptions, options, where="match"))


def verify(a: LocalFeatures, b: LocalFeatures, **options: Any):
    """Matches a to b and fits ``model`` robustly: ``.inliers``, ``.transform`` (3x3 or None),
    ``.matches``, ``.inlier_mask``."""
    return _core.local.verify(a, b, make(_core.local.VerifyOptions, options, where="verify"))


def verify_pairs(queries: Sequence[LocalFeatures], candidates: Sequence[LocalFeatures], pairs: Any,
                 threads: int = 0, **options: Any) -> torch.Tensor:
    """(matches, inliers) int64 [P, 2] of each (query row, candidate row) in ``pairs`` [P, 2],
    verified in parallel in C++."""
    pairs = as_tensor(pairs, "pairs", torch.int64, dim=2)
    return _core.local.verify_pairs(list(queries), list(candidates), pairs,
                                    make(_core.local.VerifyOptions, options, where="verify"), threads)


def rerank(ids: Any, scores: Any, queries: Sequence[LocalFeatures], candidates: Sequence[LocalFeatures],
           **options: Any):
    """Re-ranks each row of a global search (``ids`` int64 [Q, K] into ``candidates``,
    ``scores`` float [Q, K]) by verification: ``.ids``, ``.scores``, ``.inliers``, ``.matches``."""
    return _core.local.rerank(as_tensor(ids, "ids", torch.int64, dim=2),
                              as_tensor(scores, "scores", torch.float32, dim=2), list(queries),
                              list(candidates), make(_core.local.RerankOptions, options, where="rerank"))


def save_features(path: str, features: Sequence[LocalFeatures], meta: Optional[dict] = None) -> None:
    """Saves a catalogue's features in one checksummed file, atomically."""
    _core.local.save_features(str(path), list(features), meta)


def load_features(path: str) -> Tuple[List[LocalFeatures], dict]:
    """(features, meta) of a file save_features wrote (OSError when missing or corrupt)."""
    return _core.local.load_features(str(path))


def min_matches(model: str) -> int:
    """The matches the verification model needs (homography 4, affine 3, similarity 2)."""
    return _core.local.min_matches(model)
