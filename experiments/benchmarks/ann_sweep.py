"""HNSW32 and IVF on 1M vectors: recall@10 against QPS and single-query p99, through
lookalike.eval.sweep (build, batch QPS, per-query latency measured in C++).

    .venv/bin/python experiments/benchmarks/ann_sweep.py [--n 1000000 --nq 10000 --d 128]

Data: n unit vectors around n/100 Gaussian centres with noise as large as the centres (spread
1.0, seeded), so neighbours cross cluster borders as in real embedding sets; queries are drawn
around the same centres. Ground truth: the exact engine, cached under results/bench/cache. Prints, per
index, the fastest setting that reaches recall@10 >= 0.95 with its QPS and p99 latency; writes
the table (JSON) and the recall-vs-QPS plot.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import clustered_unit, peak_rss_gib, write_json  # noqa: E402

import lookalike  # noqa: E402
import lookalike.plot  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--nq", type=int, default=10_000)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--nlist", type=int, default=4096)
    p.add_argument("--train", type=int, default=200_000, help="IVF training sample")
    p.add_argument("--latency-queries", type=int, default=2000)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--spread", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--out", default="results/bench/ann_sweep")
    a = p.parse_args()
    threads = lookalike.set_threads(a.threads)
    t0 = time.perf_counter()
    both = clustered_unit(a.n + a.nq, a.d, centers=max(10, a.n // 100), spread=a.spread, seed=0)
    base, queries = torch.from_numpy(both[:a.n]), torch.from_numpy(both[a.n:])
    print(f"data {a.n} x {a.d} + {a.nq} queries in {time.perf_counter() - t0:.1f} s, {threads} threads")
    t0 = time.perf_counter()
    gt = lookalike.eval.ground_truth(base, queries, 10, cache_dir=os.path.join("results", "bench", "cache"))
    print(f"ground truth (exact engine, or cache) in {time.perf_counter() - t0:.1f} s")

    ivf = f"IVF{a.nlist},Flat"
    specs = ["HNSW32", ivf]
    params = {
        "HNSW32": [{"ef_search": e} for e in (16, 32, 64, 128, 256, 512)],
        ivf: [{"nprobe": n} for n in (1, 2, 4, 8, 16, 32, 64, 128)],
    }
    table = lookalike.eval.sweep(specs, params, base, queries, gt, k=10, train=base[:a.train],
                                 latency_queries=a.latency_queries)
    with_cols = ["spec", "nprobe", "ef_search", "neighbour_recall", "qps", "p50_ms", "p90_ms", "p99_ms", "build_s", "memory_bytes"]
    print(table[with_cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    best = {}
    for spec, rows in table.groupby("spec", sort=False):
        ok = rows[rows["neighbour_recall"] >= a.target]
        if len(ok):
            r = ok.sort_values("qps", ascending=False).iloc[0]
            best[spec] = {k: (None if r[k] != r[k] else r[k]) for k in with_cols}
            print(f"{spec}: fastest at recall@10 >= {a.target}: neighbour recall {r['neighbour_recall']:.4f}, "
                  f"{r['qps']:.0f} QPS (batch), p99 {r['p99_ms']:.3f} ms (single query)")
        else:
            print(f"{spec}: no setting reached recall@10 {a.target}")
    print(f"peak RSS {peak_rss_gib():.2f} GiB")
    os.makedirs(a.out, exist_ok=True)
    fig = lookalike.plot.recall_qps(table, title=f"{a.n:,} x {a.d}, {a.nq:,} queries, {threads} threads")
    lookalike.results.save_figure(fig, os.path.join(a.out, "recall_qps.png"))
    write_json(os.path.join(a.out, "sweep.json"), {
        "config": vars(a), "threads": threads, "table": table.to_dict(orient="records"), "best": best,
        "peak_rss_gib": peak_rss_gib(), "versions": lookalike.results.versions()})


if __name__ == "__main__":
    main()
