"""The study contract. A study states its options (``DEFAULTS``: every key with its default, which
the config check reads; ``APPLIES``: the options only some variants read) and its steps
(``run(cfg, out)``, returning the report: metrics, sizes, ...). The runner owns the rest: the
config check, threads, the output folder, the total time and ``metrics.json`` with the config,
seed and versions. ``Output`` owns every other file (written atomically), step timings and the
list of artifacts. Subsetting for small runs is one helper here.

>>> class Hello(Study):
...     name = "hello"
...     DEFAULTS = {"study": "hello", "name": "hello", "seed": 0, "threads": 0, "greeting": "hi"}
...     def run(self, cfg, out):
...         with out.timed("greet"):
...             out.text("report.md", cfg["greeting"])
...         return {"metrics": {"length": len(cfg["greeting"])}}
"""
from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Sequence, Tuple

import torch

from .. import _core, data, results
from ..progress import duration

# (option paths, applies(cfg), when it applies): see config.check_applies.
AppliesRule = Tuple[Sequence[str], Callable[[Mapping[str, Any]], bool], str]


class Output:
    """A study's output folder: files land atomically, each is listed in ``artifacts``; steps
    timed with ``timed`` are reported as ``<step>_s``."""

    def __init__(self, folder: Path, label: str = "", writes: bool = True) -> None:
        self.folder = Path(folder)
        self.label = label or self.folder.name  # what its progress lines start with
        # False on the ranks other than 0 of a distributed run: the same study runs there, and
        # only rank 0 writes files and progress lines.
        self.writes = writes
        self.folder.mkdir(parents=True, exist_ok=True)
        self.timings: Dict[str, float] = {}
        self.artifacts: List[str] = []
        self.t0 = time.perf_counter()

    def path(self, name: str) -> Path:
        """Where a file the C++ core writes atomically itself (a model, a log) goes; listed."""
        self._list(name)
        return self.folder / name

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Times a step; a line on stderr when it starts and when it ends (elapsed, study total),
        so a study run in a log shows where it is."""
        t = time.perf_counter()
        if self.writes:
            print(f"[{self.label}] {step} ...", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            dt = time.perf_counter() - t
            self.timings[f"{step}_s"] = self.timings.get(f"{step}_s", 0.0) + dt
            if self.writes:
                print(f"[{self.label}] {step} done in {duration(dt)} (study {duration(time.perf_counter() - self.t0)})",
                      file=sys.stderr, flush=True)

    def figure(self, name: str, fig: Any) -> None:
        """Saves a matplotlib figure as PNG and closes it (a study keeps no figure open)."""
        import matplotlib.pyplot as plt

        if self.writes:
            results.save_figure(fig, self.folder / name)
        plt.close(fig)
        self._list(name)

    def text(self, name: str, text: str) -> None:
        if self.writes:
            _core.write_file_atomic(str(self.folder / name), text.encode("utf-8"))
        self._list(name)

    def json(self, name: str, payload: Dict[str, Any]) -> None:
        if self.writes:
            results.write_json(str(self.folder / name), payload)
        self._list(name)

    def _list(self, name: str) -> None:
        if name not in self.artifacts:
            self.artifacts.append(name)


class Study:
    """Base of every study (see the module doc). Subclasses set ``name``, ``DEFAULTS`` and
    ``APPLIES`` and implement ``run``."""

    name: str = ""
    DEFAULTS: Dict[str, Any] = {}
    APPLIES: Sequence[AppliesRule] = ()

    def check(self, cfg: Dict[str, Any]) -> None:
        """Checks what the defaults cannot (entries of lists, options read by C++ structs) before
        anything runs; raises ValueError naming the key. Nothing to check by default."""

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        raise NotImplementedError


def subset(x: torch.Tensor, y: torch.Tensor, limit: int, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """A stratified subset of ``limit`` items (all when 0 or more than there are), seeded."""
    if limit <= 0 or limit >= len(y):
        return x, y
    idx, _ = data.random_split(len(y), limit / len(y), seed, labels=y)
    return x[idx], y[idx]


def reshot(images: torch.Tensor, photo: Mapping[str, Any], seed: int, where: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """One simulated re-shot copy of each image (dedup/relist.h: crop, rotation, colour, blur, JPEG;
    ``photo``: its PhotoNoise options, named ``where`` in errors): (images uint8 [N, 3, S, S], the
    source row of each, int64 [N])."""
    o = _core.dedup.RelistOptions()
    o.update({"originals": 0, "min_copies": 1, "max_copies": 1, "seed": seed, "photo": dict(photo)}, where)
    source, _, copies = _core.dedup.simulate_relistings([""] * len(images), images, o)
    return copies, torch.tensor(source, dtype=torch.int64)
