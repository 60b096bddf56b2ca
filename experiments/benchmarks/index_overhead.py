"""Wrapper overhead: lookalike.index.Index.search vs calling python3-faiss directly on the
same FAISS index type, same data, same threads, alternating runs in one process.

    .venv/bin/python experiments/benchmarks/index_overhead.py [--n 200000 --nq 10000]

Ratio = lookalike time / FAISS time (1.00 = no overhead; the issue's target is < 1.05), for a
batch of nq queries and for single-query calls (where per-call costs show most).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import clustered_unit, write_json  # noqa: E402

import lookalike  # noqa: E402


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--nq", type=int, default=10_000)
    p.add_argument("--single", type=int, default=2000, help="single-query calls per rep")
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    import faiss

    threads = lookalike.set_threads(a.threads)
    faiss.omp_set_num_threads(threads)
    both = clustered_unit(a.n + a.nq, a.d, centers=a.n // 100, spread=0.35, seed=0)
    xb, xq = both[:a.n], both[a.n:]
    ids = np.arange(a.n, dtype=np.int64)
    cases = [("IVF1024,Flat", {"nprobe": 16}), ("HNSW32", {"ef_search": 64}), ("Flat", {})]
    results = []
    for spec, kw in cases:
        ours = lookalike.index.Index(a.d, spec, backend="faiss")
        ref = faiss.index_factory(a.d, spec, faiss.METRIC_INNER_PRODUCT)
        ours.train(xb[:100_000])
        ref.train(xb[:100_000])
        # HNSW inserts in parallel, which makes the graph depend on thread timing: build both
        # on one thread so they hold the same graph and do the same work.
        build_threads = 1 if spec.startswith("HNSW") else threads
        lookalike.set_threads(build_threads)
        faiss.omp_set_num_threads(build_threads)
        ours.add(xb, ids)
        ref.add(xb)
        lookalike.set_threads(threads)
        faiss.omp_set_num_threads(threads)
        if "nprobe" in kw:
            faiss.extract_index_ivf(ref).nprobe = kw["nprobe"]
        if "ef_search" in kw:
            ref.hnsw.efSearch = kw["ef_search"]
        tq = torch.from_numpy(xq)
        nq = a.nq if spec != "Flat" else min(a.nq, 2000)
        single = a.single if spec != "Flat" else 200
        qs = [tq[i:i + 1] for i in range(single)]
        xs = [xq[i:i + 1] for i in range(single)]
        # Same answers first: the comparison is only fair if both do the same work.
        same = np.mean(ours.search(tq[:nq], 10, **kw)[1].numpy() == ref.search(xq[:nq], 10)[1])
        batch_ours, batch_ref, one_ours, one_ref = [], [], [], []
        for _ in range(a.reps):  # alternate, so drifts hit both
            batch_ref.append(timed(lambda: ref.search(xq[:nq], 10), 1))
            batch_ours.append(timed(lambda: ours.search(tq[:nq], 10, **kw), 1))
            one_ref.append(timed(lambda: [ref.search(x, 10) for x in xs], 1))
            one_ours.append(timed(lambda: [ours.search(q, 10, **kw) for q in qs], 1))
        r = {"spec": spec, **kw, "same_answers": float(same),
             "batch_faiss_s": statistics.median(batch_ref), "batch_ours_s": statistics.median(batch_ours),
             "single_faiss_us": statistics.median(one_ref) / single * 1e6,
             "single_ours_us": statistics.median(one_ours) / single * 1e6}
        r["batch_ratio"] = r["batch_ours_s"] / r["batch_faiss_s"]
        r["single_ratio"] = r["single_ours_us"] / r["single_faiss_us"]
        results.append(r)
        print(f"{spec:14s} {kw}: same answers {same:.4f}; batch of {nq}: faiss {r['batch_faiss_s']:.3f} s, "
              f"ours {r['batch_ours_s']:.3f} s, ratio {r['batch_ratio']:.3f}; single query: faiss "
              f"{r['single_faiss_us']:.1f} us, ours {r['single_ours_us']:.1f} us, ratio {r['single_ratio']:.3f}")
    write_json(a.json, {"config": vars(a), "threads": threads, "results": results,
                        "versions": lookalike.results.versions()})


if __name__ == "__main__":
    main()
