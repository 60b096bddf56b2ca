"""Data-parallel training and sharded search over 1, 2, 4 processes on this machine.

    .venv/bin/python experiments/benchmarks/distributed_scaling.py [--nproc 1 2 4] [--json FILE]

Launcher and worker in one file: without RANK in the environment it starts each world size's
processes (torchrun's environment, the cores divided among them) and gathers what rank 0 reports.
Training: a [32, 64, 128] ConvNet on the first --train images of Fashion-MNIST, global batch 128,
--epochs epochs; the last epoch's items/s over all ranks and rank 0's seconds in the gradients'
all-reduce (the communication cost). Search: a Flat index of --items x --dim clustered unit vectors
split by id, --queries queries of k=10 broadcast from rank 0, merged; queries/s and the seconds of
one empty collective (a barrier's round trip). The 1-process row is the peer each ratio is against.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "python"))


def worker(a: argparse.Namespace) -> None:
    import torch

    import lookalike
    from lookalike import dist, index, train
    from _common import clustered_unit

    x, y = lookalike.data.fashion_mnist("train")
    r = train.fit(x[:a.train], y[:a.train], backbone="convnet", channels=[32, 64, 128], epochs=a.epochs,
                  batch_size=128, progress="off", seed=0)
    rank, size = dist.init()
    last = r.history[-1]
    v = torch.from_numpy(clustered_unit(a.items, a.dim, 1000, 0.3, seed=0))
    ids = torch.arange(a.items)
    rows = dist.shard_rows(ids, rank, size)
    ix = index.Index(a.dim, "Flat")
    ix.add(v[rows], ids[rows])
    q = v[:a.queries] if rank == 0 else None
    dist.sharded_search(ix, q, 10)  # warm
    t = time.perf_counter()
    reps = 3
    for _ in range(reps):
        dist.sharded_search(ix, q, 10)
    search_s = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    for _ in range(20):
        dist.barrier()
    barrier_s = (time.perf_counter() - t) / 20
    if rank == 0:
        print(json.dumps({"nproc": size, "train_items_per_s": last["items_per_second"],
                          "epoch_s": last["seconds"], "allreduce_s": last.get("allreduce_seconds", 0.0),
                          "search_qps": a.queries / search_s, "barrier_ms": barrier_s * 1e3}))


def launch(a: argparse.Namespace, n: int) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    argv = [sys.executable, __file__, *sys.argv[1:]]
    procs = [subprocess.Popen(argv, env=dict(env, RANK=str(r)), stdout=subprocess.PIPE, text=True) for r in range(n)]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"{n} processes: exit codes {[p.returncode for p in procs]}")
    return json.loads(outs[0].strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nproc", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--train", type=int, default=6000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--items", type=int, default=200_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--json", default="results/bench/distributed_scaling.json")
    a = p.parse_args()
    if "RANK" in os.environ:
        worker(a)
        return
    rows = [launch(a, n) for n in a.nproc]
    base = rows[0]
    print(f"{'nproc':>5} {'train img/s':>12} {'speed-up':>9} {'all-reduce':>11} {'search q/s':>11} {'speed-up':>9} {'barrier':>9}")
    for r in rows:
        r["train_speedup"] = r["train_items_per_s"] / base["train_items_per_s"]
        r["search_speedup"] = r["search_qps"] / base["search_qps"]
        r["allreduce_share"] = r["allreduce_s"] / r["epoch_s"]
        print(f"{r['nproc']:>5} {r['train_items_per_s']:>12.0f} {r['train_speedup']:>8.2f}x {100 * r['allreduce_share']:>10.1f}% "
              f"{r['search_qps']:>11.0f} {r['search_speedup']:>8.2f}x {r['barrier_ms']:>7.2f}ms")
    from _common import write_json

    write_json(a.json, {"config": vars(a), "cores": os.cpu_count(), "results": rows})


if __name__ == "__main__":
    main()
