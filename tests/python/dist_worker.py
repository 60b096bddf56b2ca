"""One rank of the distributed-training tests: ``python dist_worker.py OUT JSON_OPTIONS`` trains a
small ConvNet on a planted set (the same on every rank, from a fixed seed) with
``lookalike.train.fit`` under the environment's RANK / WORLD_SIZE (or alone), and rank 0 saves the
model to OUT/model.pt and the history to OUT/history.json. JSON_OPTIONS: fit's keywords, plus
``stop_after`` (epochs, then stop early: the checkpoint holds them)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from lookalike import train  # noqa: E402


def planted(n: int = 96, classes: int = 4, side: int = 12):
    g = torch.Generator().manual_seed(7)
    y = torch.arange(n) % classes
    x = torch.rand(n, 1, side, side, generator=g) * 0.5
    for c in range(classes):  # class c: a bright band at row block c
        x[y == c, :, 3 * c:3 * c + 3, :] += 0.5
    return (x * 255).to(torch.uint8), y


def main() -> None:
    out = Path(sys.argv[1])
    opts = json.loads(sys.argv[2])
    stop_after = opts.pop("stop_after", 0)
    x, y = planted()
    on_epoch = (lambda rec: rec["epoch"] < stop_after) if stop_after else None
    r = train.fit(x, y, on_epoch=on_epoch, **opts)
    if int(os.environ.get("RANK", "0")) == 0:
        out.mkdir(parents=True, exist_ok=True)
        r.model.save(out / "model.pt")
        (out / "history.json").write_text(json.dumps(r.history))


if __name__ == "__main__":
    main()
