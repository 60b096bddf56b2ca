"""The gate's history: one JSON line per ``lookalike check`` run (commit, time, each metric's
measured value and verdict), so a metric against commit is one command:
``lookalike history [--metric PATTERN] [--plot FILE.png]``. The file is rewritten atomically on
each append (it stays small), so a killed run never leaves a half line."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .. import _core


def commit(root: Path) -> Dict[str, Any]:
    """HEAD of the repository at ``root`` and whether the tree has changes (None outside git)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip() != ""
        return {"sha": sha, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"sha": None, "dirty": None}


def load(path: str) -> List[Dict[str, Any]]:
    """Every run in the history file, oldest first; a line that is not JSON is an error naming it."""
    p = Path(path)
    if not p.exists():
        return []
    runs = []
    for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            runs.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"history file '{path}' line {i} is not JSON: {e}") from None
    return runs


def append(path: str, report: Dict[str, Any]) -> None:
    """Adds one run (its rows reduced to entry/metric/measured/verdict)."""
    line = {k: report[k] for k in ("time", "commit", "quick", "file", "total_s", "failed")}
    line["rows"] = [{k: r[k] for k in ("kind", "entry", "metric", "measured", "verdict")} for r in report["rows"]]
    p = Path(path)
    old = p.read_text(encoding="utf-8") if p.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    p.parent.mkdir(parents=True, exist_ok=True)
    _core.write_file_atomic(str(p), (old + json.dumps(line) + "\n").encode("utf-8"))


def series(runs: Sequence[Dict[str, Any]], pattern: str = "") -> Dict[str, List[Optional[float]]]:
    """entry/metric -> its measured value in each run (None where a run did not measure it)."""
    keys: List[str] = []
    for r in runs:
        for row in r["rows"]:
            k = f"{row['entry']}/{row['metric']}"
            if pattern in k and k not in keys:
                keys.append(k)
    out: Dict[str, List[Optional[float]]] = {k: [] for k in keys}
    for r in runs:
        got = {f"{row['entry']}/{row['metric']}": row["measured"] for row in r["rows"]}
        for k in keys:
            out[k].append(got.get(k))
    return out


def columns(head: Sequence[str], body: Sequence[Sequence[Any]], rule: bool = False) -> str:
    """Rows as left-aligned columns two spaces apart (the gate's tables); ``rule``: a line of
    dashes under the head."""
    rows = [[str(c) for c in head]] + [[str(c) for c in r] for r in body]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    if rule:
        rows.insert(1, ["-" * w for w in widths])
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _label(run: Dict[str, Any]) -> str:
    c = run.get("commit") or {}
    return f"{c.get('sha') or '?'}{'+' if c.get('dirty') else ''}"


def text(runs: Sequence[Dict[str, Any]], pattern: str = "") -> str:
    """A table: one row per run (time, commit, failures), one column per matching metric."""
    s = series(runs, pattern)
    head = ["time", "commit", "failed"] + list(s)
    body = [[r["time"], _label(r), str(r["failed"])] + ["-" if s[k][i] is None else f"{s[k][i]:.4g}" for k in s]
            for i, r in enumerate(runs)]
    return columns(head, body)


def plot(runs: Sequence[Dict[str, Any]], path: str, pattern: str = "") -> None:
    """Each matching metric against run (labelled by commit), one panel per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..results import save_figure

    s = series(runs, pattern)
    if not s:
        raise ValueError(f"no metric in the history matches {pattern!r}")
    fig, axes = plt.subplots(len(s), 1, figsize=(max(6, 0.5 * len(runs) + 3), 2.2 * len(s)), squeeze=False)
    labels = [_label(r) for r in runs]
    for ax, (k, ys) in zip(axes[:, 0], s.items()):
        xs = [i for i, y in enumerate(ys) if y is not None]
        ax.plot(xs, [ys[i] for i in xs], marker="o")
        ax.set_title(k, fontsize=9)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
