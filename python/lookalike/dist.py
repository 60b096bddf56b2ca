"""Runs over several processes: torch.distributed's c10d (Gloo) under the C++ core.

A process learns its place from the environment, as ``torchrun`` sets it (``RANK``, ``WORLD_SIZE``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``; ``LOOKALIKE_DIST_TIMEOUT`` seconds before a
silent peer is an error). ``lookalike run --nproc N config.yaml`` starts N such processes on this
machine (``launch``). Training (``TrainOptions.distributed="auto"``) then splits every global batch
across the ranks; ``sharded_search`` searches an index split by id across them.

>>> launch_info()["world_size"]
1
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from . import _core
from ._tensors import as_tensor


def launch_info() -> Dict[str, Any]:
    """This process's rank, world size, ... as the environment gives them (joins nothing)."""
    return dict(_core.dist.launch())


def rank() -> int:
    """This process's rank (0 when not launched as one of several)."""
    return int(launch_info()["rank"])


def init() -> Tuple[int, int]:
    """Joins the other ranks (once per process; training joins by itself); (rank, world size)."""
    return tuple(_core.dist.init())


def barrier() -> None:
    _core.dist.barrier()


def shard_rows(ids: Any, rank: int, size: int) -> torch.Tensor:
    """Rows of ``ids`` (int64 ``[n]``) that rank ``rank`` of ``size`` holds (id mod size == rank)."""
    return _core.dist.shard_rows(as_tensor(ids, "ids", torch.int64, dim=1), int(rank), int(size))


def merge_topk(scores: Sequence[torch.Tensor], ids: Sequence[torch.Tensor], k: int,
               metric: str = "ip") -> Tuple[torch.Tensor, torch.Tensor]:
    """The k best of several result lists for the same queries (C++; ties by the smaller id)."""
    return _core.dist.merge_topk(list(scores), list(ids), int(k), metric)


def sharded_search(shard: Any, queries: Optional[Any], k: int, *, nprobe: Optional[int] = None,
                   ef_search: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Collective over the ranks: rank 0's ``queries`` (float ``[nq, d]``; others pass None) in
    every rank's ``shard`` (a ``lookalike.index.Index``); every rank gets (scores, ids) ``[nq, k]``."""
    from .index import _params

    q = torch.empty(0, 0) if queries is None else as_tensor(queries, "queries", torch.float32, dim=2)
    return _core.dist.sharded_search(shard._index, q, int(k), _params(nprobe, ef_search))


def save_shard(shard: Any, prefix: str) -> None:
    """Collective: ``<prefix>.shard<r>-of-<W>`` per rank and the manifest ``<prefix>.shards.json``."""
    _core.dist.save_shard(shard._index, os.fspath(prefix))


def load_shard(prefix: str, device: str = "cpu") -> Any:
    """This rank's shard, checked against the manifest (OSError for another index's file)."""
    from .index import Index

    return Index(0, _index=_core.dist.load_shard(os.fspath(prefix), device))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(argv: List[str], nproc: int, grace_s: float = 30.0) -> int:
    """Runs ``python -m lookalike <argv>`` as ``nproc`` ranks on this machine (torchrun's
    environment; each rank gets cores / nproc threads). When one fails, the others get
    ``grace_s`` seconds to report their own error, then are stopped. Returns the first non-zero
    exit status (or 0). Not torch's ``torch.distributed.run``: Debian's (torch 1.13) fails under
    Python 3.11 before starting a rank (AttributeError in elastic's ``to_map``); where torchrun
    works, ``torchrun --nproc_per_node N -m lookalike run cfg.yaml`` is the same run."""
    if nproc < 1:
        raise ValueError(f"--nproc must be >= 1, got {nproc}")
    env = dict(os.environ, WORLD_SIZE=str(nproc), LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(_free_port()))
    procs = [subprocess.Popen([sys.executable, "-m", "lookalike", *argv],
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r))) for r in range(nproc)]
    failed_at = None
    status = 0
    while any(p.poll() is None for p in procs):
        codes = [p.poll() for p in procs]
        if failed_at is None and any(c not in (None, 0) for c in codes):
            failed_at = time.monotonic()
            status = next(c for c in codes if c not in (None, 0))
        if failed_at is not None and time.monotonic() - failed_at > grace_s:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
        time.sleep(0.1)
    if status == 0:
        status = next((p.returncode for p in procs if p.returncode != 0), 0)
    return int(status)
