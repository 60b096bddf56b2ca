"""Memory of exact evaluation at scale: retrieval metrics of nq queries against nb references
(default 1M x 1M, d = 128) through the exact engine, printing peak RSS.

    .venv/bin/python experiments/benchmarks/knn_memory.py [--nq 1000000 --nb 1000000] [--device cuda]

The inputs alone are (nq + nb) x d x 4 bytes (1 GiB at the default); the issue's target is a
peak RSS under 2 GiB for the whole run, i.e. no nq x nb matrix and bounded tiles. Runtime is
2 nq nb d FLOP at the engine's rate (about 28 min on 2 cores at 150 GFLOP/s).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import peak_rss_gib, write_json  # noqa: E402

import lookalike  # noqa: E402


def unit_rows(n, d, seed, device):
    g = torch.Generator().manual_seed(seed)
    x = torch.empty((n, d), dtype=torch.float32)
    for s in range(0, n, 100_000):  # in place, chunk by chunk: one copy of the data
        e = min(n, s + 100_000)
        x[s:e] = torch.randn((e - s, d), generator=g)
        x[s:e] /= x[s:e].norm(dim=1, keepdim=True)
    return x.to(device)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nq", type=int, default=1_000_000)
    p.add_argument("--nb", type=int, default=1_000_000)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    threads = lookalike.set_threads(a.threads)
    q = unit_rows(a.nq, a.d, 1, a.device)
    r = unit_rows(a.nb, a.d, 2, a.device)
    ql = torch.from_numpy(np.random.default_rng(3).integers(0, a.classes, a.nq)).to(a.device)
    rl = torch.from_numpy(np.random.default_rng(4).integers(0, a.classes, a.nb)).to(a.device)
    rss_inputs = peak_rss_gib()
    print(f"inputs {a.nq:,} + {a.nb:,} x {a.d} on {a.device}; peak RSS after creating them {rss_inputs:.2f} GiB")
    t = time.perf_counter()
    m = lookalike.eval.retrieval_metrics(q, ql, r, rl, k=(1, 10))
    secs = time.perf_counter() - t
    rss = peak_rss_gib()
    gflops = 2 * a.nq * a.nb * a.d / secs / 1e9
    print(f"retrieval_metrics: {secs:.1f} s ({gflops:.0f} GFLOP/s-equivalent, {threads} threads); "
          f"peak RSS {rss:.2f} GiB (target < 2 GiB)")
    print({k: round(v, 5) for k, v in m.items()})
    write_json(a.json, {"config": vars(a), "threads": threads, "seconds": secs, "gflops": gflops,
                        "peak_rss_gib": rss, "peak_rss_after_inputs_gib": rss_inputs, "metrics": m,
                        "versions": lookalike.results.versions()})


if __name__ == "__main__":
    main()
