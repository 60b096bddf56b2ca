"""Shared by the benchmark scripts: synthetic embedding sets, JSON output, peak RSS."""
from __future__ import annotations

import json
import os
import resource
import sys

import numpy as np


def clustered_unit(n: int, d: int, centers: int, spread: float, seed: int, chunk: int = 200_000) -> np.ndarray:
    """n unit vectors around `centers` Gaussian centres (the shape of an embedding catalogue:
    near-duplicates close together), generated in chunks to keep memory at one copy."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, d)).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        x = c[rng.integers(0, centers, e - s)]
        x += spread * rng.standard_normal((e - s, d), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[s:e] = x
    return out


def peak_rss_gib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def write_json(path: str | None, data: dict) -> None:
    if not path:
        return
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    from lookalike.results import write_json as atomic

    atomic(path, data)
    print(f"wrote {path}")
