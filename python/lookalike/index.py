"""Vector indexes with 64-bit ids, update logs and threshold clustering (C++ core).

``Index(dim, spec="Flat")`` takes any FAISS factory string; ``"Flat"`` runs on lookalike's
exact kNN engine (CPU, or CUDA with ``device="cuda"``) unless ``backend="faiss"``.

>>> import torch
>>> x = torch.nn.functional.normalize(torch.randn(1000, 16), dim=1)
>>> index = Index(16)
>>> index.add(x, torch.arange(1000) * 10)
>>> scores, ids = index.search(x[:2], k=3)
>>> ids[:, 0].tolist()
[0, 10]
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import torch

from . import _core
from .options import make
from ._tensors import as_tensor

__all__ = ["ClusterResult", "Index", "UpdateLog", "threshold_clusters"]


def _vectors(x: Any, name: str) -> torch.Tensor:
    return as_tensor(x, name, torch.float32, dim=2)


def _ids(ids: Any, name: str) -> torch.Tensor:
    if isinstance(ids, (list, tuple, range)):
        ids = torch.tensor(list(ids), dtype=torch.int64)
    return as_tensor(ids, name, torch.int64, dim=1)


class UpdateLog:
    """A day's adds and removes, applied in order by :meth:`Index.apply`; saved atomically."""

    def __init__(self, _log: Optional[_core.index.UpdateLog] = None):
        self._log = _log if _log is not None else _core.index.UpdateLog()

    def add(self, vectors: Any, ids: Any) -> "UpdateLog":
        self._log.add(_vectors(vectors, "vectors"), _ids(ids, "ids"))
        return self

    def remove(self, ids: Any) -> "UpdateLog":
        self._log.remove(_ids(ids, "ids"))
        return self

    @property
    def num_added(self) -> int:
        return self._log.num_added

    @property
    def num_removed(self) -> int:
        return self._log.num_removed

    def __len__(self) -> int:
        return self._log.num_ops

    def save(self, path: str | os.PathLike) -> None:
        self._log.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "UpdateLog":
        return cls(_core.index.UpdateLog.load(os.fspath(path)))

    def __repr__(self) -> str:
        return f"UpdateLog(ops={len(self)}, added={self.num_added}, removed={self.num_removed})"


class Index:
    """A vector index: ``train``, ``add(x, ids)``, ``remove(ids)``, ``search``,
    ``range_search``, ``save``/``load`` and ``apply(UpdateLog)``.

    Args:
        dim: vector dimension.
        spec: FAISS factory string (``"Flat"``, ``"IVF1024,Flat"``, ``"HNSW32"``, ...).
        metric: ``"ip"`` (scores are inner products, larger is nearer) or ``"l2"`` (squared
            distances).
        device: ``"cpu"`` or ``"cuda"``; CUDA serves ``"Flat"`` through the exact engine (FAISS
            GPU indexes when the linked FAISS has them).
        backend: ``"auto"``, ``"engine"`` (exact engine, ``"Flat"`` only) or ``"faiss"``.
        rebuild_fraction: for indexes that cannot remove in place (HNSW), removed items are
            filtered from results until they exceed this fraction, then the index is rebuilt.
    """

    def __init__(self, dim: int, spec: Optional[str] = None, *, _index=None, **options: Any):
        """``spec``: a FAISS factory string (C++ default "Flat"); ``options``: the other
        ``IndexOptions`` fields (``metric``, ``device``, ``backend``, ``rebuild_fraction``) with
        the C++ defaults."""
        if spec is not None:
            options["spec"] = spec
        if "device" in options:
            options["device"] = str(options["device"])
        self._index = _index if _index is not None else _core.index.VectorIndex(int(dim), make(
            _core.index.IndexOptions, options, where="Index"))

    # -- description ------------------------------------------------------------------------
    dim = property(lambda self: self._index.dim)
    spec = property(lambda self: self._index.spec)
    metric = property(lambda self: self._index.metric)
    device = property(lambda self: self._index.device)
    backend = property(lambda self: self._index.backend)
    is_trained = property(lambda self: self._index.is_trained)
    removes_in_place = property(lambda self: self._index.removes_in_place)
    dead = property(lambda self: self._index.dead, doc="removed items awaiting a rebuild")

    def __len__(self) -> int:
        return self._index.size

    def __contains__(self, id_: int) -> bool:
        return self._index.contains(int(id_))

    def ids(self) -> torch.Tensor:
        """Live ids (int64), in storage order."""
        return self._index.ids()

    def memory_bytes(self) -> int:
        """Bytes of the index's data (vectors/codes, graph, id tables)."""
        return self._index.memory_bytes()

    def __repr__(self) -> str:
        return (f"Index(dim={self.dim}, spec={self.spec!r}, metric={self.metric!r}, "
                f"device={self.device!r}, backend={self.backend!r}, size={len(self)})")

    # -- building ---------------------------------------------------------------------------
    def train(self, x: Any) -> "Index":
        self._index.train(_vectors(x, "x"))
        return self

    def add(self, x: Any, ids: Any = None) -> None:
        """Adds vectors under int64 ids (>= 0, new); without ids, continues after the largest."""
        x = _vectors(x, "x")
        if ids is None:
            start = int(self.ids().max()) + 1 if len(self) else 0
            ids = torch.arange(start, start + x.shape[0], dtype=torch.int64)
        self._index.add(x, _ids(ids, "ids"))

    def remove(self, ids: Any) -> int:
        return self._index.remove(_ids(ids, "ids"))

    def apply(self, log: UpdateLog) -> dict:
        """Applies a log (validated as a whole first); returns added, removed, rebuilt."""
        added, removed, rebuilt = self._index.apply(log._log)
        return {"added": added, "removed": removed, "rebuilt": rebuilt}

    def rebuild(self) -> None:
        self._index.rebuild()

    # -- searching --------------------------------------------------------------------------
    def search(self, query: Any, k: int, *, nprobe: Optional[int] = None,
               ef_search: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """(scores float32 [nq, k], ids int64 [nq, k]), nearest first; id -1 where fewer than
        k items were found."""
        return self._index.search(_vectors(query, "query"), int(k), _params(nprobe, ef_search))

    def range_search(self, query: Any, threshold: float, *, nprobe: Optional[int] = None,
                     ef_search: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every item with score > threshold (ip) or distance < threshold (l2), as
        (lims [nq+1], scores, ids): query i's hits are ``[lims[i], lims[i+1])``, nearest first."""
        return self._index.range_search(_vectors(query, "query"), float(threshold), _params(nprobe, ef_search))

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Writes atomically: readers see the old file or the new one."""
        self._index.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> "Index":
        return cls(0, _index=_core.index.VectorIndex.load(os.fspath(path), str(device)))


@dataclass
class ClusterResult:
    labels: torch.Tensor           #: int64 [n], cluster per item (0.. in order of first item)
    representatives: torch.Tensor  #: int64 [C], per cluster the member with most links
    sizes: torch.Tensor            #: int64 [C]
    num_edges: int                 #: linked pairs
    reduction_ratio: float         #: items / clusters

    @property
    def num_clusters(self) -> int:
        return int(self.sizes.numel())


def threshold_clusters(x: Any, threshold: float, *, nprobe: Optional[int] = None,
                       ef_search: Optional[int] = None, **options: Any) -> ClusterResult:
    """Groups items whose score passes ``threshold`` (> for ip, < for l2) into connected
    components. ``k=0`` links every passing pair (exact range search); ``k>0`` only each item's
    k nearest through index ``spec`` (for catalogues too large for all pairs). ``options``: the
    other ``ClusterOptions`` fields (``metric``, ``k``, ``spec``, ``query_tile``) with the C++
    defaults."""
    o = make(_core.index.ClusterOptions, options, where="threshold_clusters",
             params={"nprobe": int(nprobe or 0), "ef_search": int(ef_search or 0)})
    labels, reps, sizes, edges, ratio = _core.index.threshold_clusters(_vectors(x, "x"), float(threshold), o)
    return ClusterResult(labels, reps, sizes, int(edges), float(ratio))


def _params(nprobe: Optional[int], ef_search: Optional[int]) -> "_core.index.SearchParams":
    return make(_core.index.SearchParams, nprobe=int(nprobe or 0), ef_search=int(ef_search or 0))
