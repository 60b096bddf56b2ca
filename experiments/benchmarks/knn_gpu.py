"""Exact kNN on CUDA: lookalike's torch backend (tiled GEMM + top-k) against the GPU's GEMM
throughput (torch.mm of the same shapes, same tiles), one process.

    python3 experiments/benchmarks/knn_gpu.py [--nq 100000 --nb 1000000 --d 128]

Prints TFLOP/s-equivalent (2 nq nb d / s) for each (reference tile, top-k chunk) setting and k,
and the share of the GEMM-only rate. Needs a CUDA device.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import write_json  # noqa: E402

import lookalike  # noqa: E402


def cuda_time(fn, reps=3):
    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nq", type=int, default=100_000)
    p.add_argument("--nb", type=int, default=1_000_000)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--k", type=int, nargs="+", default=[10, 100])
    p.add_argument("--query-tile", type=int, default=4096)
    p.add_argument("--ref-tiles", type=int, nargs="+", default=[65536, 262144])
    p.add_argument("--chunks", type=int, nargs="+", default=[0, 1024, 4096])
    p.add_argument("--json", default=None)
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("knn_gpu.py needs a CUDA device")
    g = torch.Generator(device="cuda").manual_seed(0)
    xb = torch.nn.functional.normalize(torch.randn(a.nb, a.d, device="cuda", generator=g), dim=1)
    xq = torch.nn.functional.normalize(torch.randn(a.nq, a.d, device="cuda", generator=g), dim=1)
    flop = 2.0 * a.nq * a.nb * a.d
    rows = {"device": torch.cuda.get_device_name(), "nq": a.nq, "nb": a.nb, "d": a.d,
            "tf32": torch.backends.cuda.matmul.allow_tf32, "runs": []}
    for rt in a.ref_tiles:
        out = torch.empty(a.query_tile, rt, device="cuda")

        def gemm():
            for s in range(0, a.nq, a.query_tile):
                e = min(a.nq, s + a.query_tile)
                for rs in range(0, a.nb, rt):
                    re_ = min(a.nb, rs + rt)
                    torch.mm(xq[s:e], xb[rs:re_].t(), out=out[: e - s, : re_ - rs])

        t_gemm = cuda_time(gemm)
        print(f"{rows['device']}: GEMM only, ref tile {rt}: {flop / t_gemm / 1e12:.1f} TFLOP/s")
        for k in a.k:
            ref = None
            for chunk in a.chunks:
                opts = lookalike._core.eval.KnnOptions(metric="ip", backend="torch", query_tile=a.query_tile,
                                                       reference_tile=rt, topk_chunk=chunk)
                fn = lambda: lookalike._core.eval.exact_knn(xq, xb, k, opts)
                t = cuda_time(fn)
                ids = fn()[1]
                same = 1.0 if ref is None else float((ids == ref).float().mean())
                ref = ids if ref is None else ref
                r = {"ref_tile": rt, "topk_chunk": chunk, "k": k, "seconds": t, "tflops": flop / t / 1e12,
                     "gemm_tflops": flop / t_gemm / 1e12, "share_of_gemm": t_gemm / t, "same_ids_as_first": same}
                rows["runs"].append(r)
                print(f"  k={k:4d} chunk={chunk:5d}: {t:.3f} s, {r['tflops']:.1f} TFLOP/s, "
                      f"{r['share_of_gemm']:.0%} of GEMM, same ids {same:.4f}")
    write_json(a.json, rows)


if __name__ == "__main__":
    main()
