"""One rank of the sharded-search tests: ``python dist_search_worker.py OUT SPEC K [PARAMS_JSON]``.
Every rank builds the same planted vectors (fixed seed), keeps its shard (ids mod world size ==
rank) in a ``lookalike.index.Index(SPEC)`` (IVF: every shard's quantizer trained on the whole set, as one
shared coarse quantizer), and searches rank 0's queries across all shards; rank 0
saves (scores, ids) to OUT/result.pt. The shard is also saved and re-loaded through the manifest
(OUT/shards.*) before the search; with a 5th argument "load", the shards already in OUT are
loaded instead of built."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from lookalike import dist, index  # noqa: E402


def planted(n: int = 2000, d: int = 16, nq: int = 64):
    g = torch.Generator().manual_seed(11)
    x = torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1)
    q = torch.nn.functional.normalize(x[:nq] + 0.3 * torch.randn(nq, d, generator=g), dim=1)
    return x, torch.arange(n) * 3 + 5, q  # ids neither rows nor contiguous


def main() -> None:
    out, spec, k = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    params = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    rank, size = dist.init()
    x, ids, q = planted()
    if len(sys.argv) <= 5:
        rows = dist.shard_rows(ids, rank, size)
        ix = index.Index(x.shape[1], spec)
        if not ix.is_trained:  # one quantizer for all shards, trained on the whole set's sample
            ix.train(x)
        ix.add(x[rows], ids[rows])
        out.mkdir(parents=True, exist_ok=True)
        dist.save_shard(ix, out / "shards")
    ix = dist.load_shard(out / "shards")
    scores, found = dist.sharded_search(ix, q if rank == 0 else None, k, **params)
    if rank == 0:
        torch.save({"scores": scores, "ids": found}, out / "result.pt")


if __name__ == "__main__":
    main()
