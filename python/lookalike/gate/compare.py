"""Speed across commits (google/benchmark's compare.py, for lookalike's benchmark scripts):
``lookalike bench-compare --base REV`` (``make bench-compare BASE=REV``) checks REV out in a git
worktree, builds its module there, then runs each speed entry's script alternately on the base and
on this tree ``--reps`` times and compares, per ratio and per ``compare`` field of the entry,
the two samples with a two-sided Mann-Whitney U test (scipy). Absolute times are compared only
here, between two builds measured on one machine in one session; the gate itself never uses them.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import expected as ex
from .history import columns


def u_test(base: Sequence[float], head: Sequence[float], alpha: float = 0.05) -> Dict[str, Any]:
    """Medians, relative change of the head's median and the U test's p-value; ``differs`` when
    p < alpha (with 3 vs 3 samples the smallest two-sided p is 0.1: use >= 5 repetitions)."""
    from scipy.stats import mannwhitneyu

    if len(base) < 2 or len(head) < 2:
        raise ValueError(f"a U test needs >= 2 samples a side, got {len(base)} and {len(head)}")
    p = float(mannwhitneyu(list(base), list(head), alternative="two-sided").pvalue)
    mb, mh = statistics.median(base), statistics.median(head)
    return {"base_median": mb, "head_median": mh, "change": (mh - mb) / mb if mb else None, "p": p,
            "differs": p < alpha, "base": list(base), "head": list(head)}


def worktree(root: Path, rev: str, where: Path) -> Path:
    """A detached worktree of ``rev`` under ``where`` (reused when it is already at rev)."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=root, capture_output=True,
                         text=True)
    if sha.returncode != 0:
        raise ValueError(f"--base {rev!r} is not a commit of {root}: {sha.stderr.strip()}")
    sha_s = sha.stdout.strip()
    path = where / sha_s[:12]
    if not (path / ".git").exists():
        where.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha_s], cwd=root, check=True,
                       capture_output=True)
    return path


def build(tree: Path, log: Callable[[str], None] = print) -> None:
    """Configures and builds the module of ``tree`` in ``tree/build/compare`` (no tests), output
    into ``tree/python/lookalike``; incremental when run again."""
    build_dir = tree / "build" / "compare"
    build_dir.mkdir(parents=True, exist_ok=True)
    gen = ["-G", "Ninja"] if subprocess.run(["which", "ninja"], capture_output=True).returncode == 0 else []
    log(f"[bench-compare] building {tree} (first build ~15 min on 2 cores)")
    subprocess.run(["cmake", str(tree), *gen, f"-DPython_EXECUTABLE={sys.executable}", "-DCMAKE_BUILD_TYPE=Release",
                    f"-DLOOKALIKE_PYTHON_OUTPUT_DIR={tree / 'python' / 'lookalike'}", "-DLOOKALIKE_TESTS=OFF"],
                   cwd=build_dir, check=True, capture_output=True)
    subprocess.run(["cmake", "--build", ".", "--target", "_core", "--parallel", str(os.cpu_count() or 2)],
                   cwd=build_dir, check=True)


def run_script(tree: Path, entry: ex.SpeedEntry) -> Dict[str, Any]:
    """One run of the entry's script from ``tree`` importing ``tree``'s lookalike; its JSON."""
    from .check import run_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        return run_benchmark(entry, tree, Path(tmp) / "bench.json", env=dict(os.environ, PYTHONPATH=str(tree / "python")))


def compare(root: Path, base_tree: Path, entries: Sequence[ex.SpeedEntry], reps: int,
            run: Callable[[Path, ex.SpeedEntry], Dict[str, Any]] = run_script,
            log: Callable[[str], None] = print) -> List[Dict[str, Any]]:
    """Per entry, ``reps`` alternating runs of base and head; per measured path the U test."""
    rows = []
    for e in entries:
        paths = [r.path for r in e.ratios] + list(e.compare)
        samples: Dict[str, Dict[str, List[float]]] = {p: {"base": [], "head": []} for p in paths}
        for i in range(reps):
            for side, tree in (("base", base_tree), ("head", root)):
                data = run(tree, e)
                for p in paths:
                    samples[p][side].append(float(ex.lookup(data, p)))
            log(f"[bench-compare] {e.name}: repetition {i + 1}/{reps}")
        for p in paths:
            rows.append({"entry": e.name, "path": p, **u_test(samples[p]["base"], samples[p]["head"])})
    return rows


def table(rows: Sequence[Dict[str, Any]]) -> str:
    head = ("entry", "measure", "base", "head", "change", "p (U test)", "verdict")
    body = [(r["entry"], r["path"], f"{r['base_median']:.4g}", f"{r['head_median']:.4g}",
             "-" if r["change"] is None else f"{r['change']:+.1%}", f"{r['p']:.3g}",
             "differs" if r["differs"] else "same") for r in rows]
    return columns(head, body)


def run_compare(path: str, base: str, reps: int = 5, only: Sequence[str] = (), out: Optional[str] = None,
                root: Optional[str] = None, log: Callable[[str], None] = print) -> List[Dict[str, Any]]:
    spec = ex.load(path, root).select(False, only)
    if not spec.speed:
        raise ValueError(f"{path}: no speed entries selected")
    here = Path(root) if root else Path(path).resolve().parent.parent
    tree = worktree(here, base, here / "build" / "worktrees")
    build(tree, log)
    rows = compare(here, tree, spec.speed, reps, log=log)
    if out:
        from ..results import write_json

        write_json(out, {"base": base, "reps": reps, "rows": rows})
    return rows
