"""``lookalike check experiments/expected.yaml [--quick] [--only NAME]``: re-runs the CI-sized study
configs and the benchmark scripts an expectations file names, compares each metric with its band
and each side-by-side speed ratio with its bound, prints the table (expected, measured,
verdict), writes ``<out>/check.json`` and appends the run to the history file. A metric outside
its band, a ratio past its bound, a missing metric or a run that fails is a FAIL.

``--calibrate --seeds 0 1 2 3 4`` runs the study entries at each seed instead and prints, per
metric, the seeds' mean, sd, min and max and the band the file's rule gives (see ``band_rule``).
"""
from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import results
from . import expected as ex
from . import history


@dataclass
class Row:
    kind: str  # "metric" | "ratio"
    entry: str
    metric: str
    expected: str
    measured: Optional[float]
    verdict: str  # "ok" | "FAIL"
    detail: str = ""


def band_rule(values: Sequence[float], n: int = 1, sd_factor: float = 3.0, floor: float = 0.01) -> List[float]:
    """The band a calibration sets for a check that averages ``n`` seeds: the seeds' mean +-
    max(sd_factor x their sample sd / sqrt(n), floor x max(1, |mean|)); for a single-seed check
    (n = 1) also widened to cover every seed's value. The floor keeps a band from collapsing where
    seeds agree (a deterministic metric) so that float differences between machines pass."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    half = max(sd_factor * sd / math.sqrt(n), floor * max(1.0, abs(mean)))
    if n > 1:
        return [mean - half, mean + half]
    return [min(mean - half, min(values)), max(mean + half, max(values))]


def _fmt(x: Optional[float]) -> str:
    if x is None:
        return "-"
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.4e}"


def _run_study(entry: ex.StudyEntry, seed: int, root: Path, out: Path) -> Dict[str, Any]:
    from .. import runner

    seeds = [t.replace("{seed}", str(seed)) for t in entry.seed_sets]
    return runner.run(str(root / entry.config), list(entry.sets) + seeds, out=str(out / entry.name / f"seed{seed}"))


def _number(v: Any) -> Optional[float]:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        return None
    return float(v)


def check_studies(entries: Sequence[ex.StudyEntry], root: Path, out: Path,
                  run: Callable[..., Dict[str, Any]] = _run_study, log: Callable[[str], None] = print) -> List[Row]:
    rows: List[Row] = []
    for e in entries:
        t = time.perf_counter()
        try:
            payloads = [run(e, s, root, out) for s in e.seeds]
        except Exception as err:  # a failed run is a failed check, reported with its cause
            log(traceback.format_exc())
            rows += [Row("metric", e.name, m.path, f"[{_fmt(m.band[0])}, {_fmt(m.band[1])}]", None, "FAIL",
                         f"run failed: {type(err).__name__}: {err}") for m in e.metrics]
            continue
        log(f"[check] {e.name}: {len(payloads)} run(s) in {time.perf_counter() - t:.1f} s")
        for m in e.metrics:
            band = f"[{_fmt(m.band[0])}, {_fmt(m.band[1])}]"
            try:
                values = [_number(ex.lookup(p, m.path)) for p in payloads]
            except KeyError as err:
                rows.append(Row("metric", e.name, m.path, band, None, "FAIL", f"missing: {err}"))
                continue
            if any(v is None for v in values):
                rows.append(Row("metric", e.name, m.path, band, None, "FAIL", "not a finite number"))
                continue
            v = statistics.fmean(values)  # type: ignore[arg-type]
            ok = m.band[0] <= v <= m.band[1]
            rows.append(Row("metric", e.name, m.path, band, v, "ok" if ok else "FAIL",
                            "" if ok else ("below" if v < m.band[0] else "above") + " the band"))
    return rows


def run_benchmark(entry: ex.SpeedEntry, tree: Path, path: Path, env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Runs the entry's script of ``tree`` (from ``tree``, with ``env``) writing its JSON to
    ``path``; returns that JSON. A failed run or no JSON is a RuntimeError with the script's stderr."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    cmd = [sys.executable, str(tree / entry.script), *entry.args, "--json", str(path)]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    if not path.exists():
        raise RuntimeError(f"{' '.join(cmd)} wrote no {path}")
    return json.loads(path.read_text())


def _run_script(entry: ex.SpeedEntry, root: Path, out: Path) -> Dict[str, Any]:
    return run_benchmark(entry, root, out / "bench" / f"{entry.name}.json")


def check_speed(entries: Sequence[ex.SpeedEntry], root: Path, out: Path,
                run: Callable[..., Dict[str, Any]] = _run_script, log: Callable[[str], None] = print) -> List[Row]:
    rows: List[Row] = []
    for e in entries:
        t = time.perf_counter()
        try:
            data = run(e, root, out)
        except Exception as err:
            rows += [Row("ratio", e.name, r.path, r.expected(), None, "FAIL",
                         f"run failed: {type(err).__name__}: {err}") for r in e.ratios]
            continue
        log(f"[check] {e.name}: benchmark in {time.perf_counter() - t:.1f} s")
        for r in e.ratios:
            want = r.expected()
            try:
                v = _number(ex.lookup(data, r.path))
            except KeyError as err:
                rows.append(Row("ratio", e.name, r.path, want, None, "FAIL", f"missing: {err}"))
                continue
            if v is None:
                rows.append(Row("ratio", e.name, r.path, want, None, "FAIL", "not a finite number"))
                continue
            ok = r.holds(v)
            rows.append(Row("ratio", e.name, r.path, want, v, "ok" if ok else "FAIL", "" if ok else "out of bounds"))
    return rows


def table(rows: Sequence[Row]) -> str:
    """The verdict table, one line per metric or ratio, failures marked."""
    head = ("entry", "metric / ratio", "expected", "measured", "verdict")
    body = [(r.entry, r.metric, r.expected, _fmt(r.measured), r.verdict + (f" ({r.detail})" if r.detail else ""))
            for r in rows]
    failed = sum(r.verdict != "ok" for r in rows)
    return history.columns(head, body, rule=True) + f"\n{len(rows) - failed} ok, {failed} FAIL"


def run_check(path: str, quick: bool = False, only: Sequence[str] = (), out: str = "results/check",
              history_file: Optional[str] = "results/history.jsonl", root: Optional[str] = None,
              log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Runs the selected entries, returns {rows, failed, ...}; writes check.json and appends the
    history line (``history_file=None`` leaves the history alone)."""
    spec = ex.load(path, root).select(quick, only)
    base = Path(root) if root else Path(path).resolve().parent.parent
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    rows = check_studies(spec.studies, base, folder, log=log) + check_speed(spec.speed, base, folder, log=log)
    from .. import _core

    build = dict(_core.build_info())
    if build.get("degraded"):
        log(f"[check] WARNING: this build is deliberately degraded ({build['degraded']}): a test build, not a real one")
    report = {"file": str(path), "quick": quick, "only": list(only), "commit": history.commit(base), "build": build,
              "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "total_s": time.perf_counter() - t,
              "rows": [asdict(r) for r in rows], "failed": sum(r.verdict != "ok" for r in rows)}
    results.write_json(str(folder / "check.json"), report)
    if history_file:
        history.append(history_file, report)
    return report


def calibrate(path: str, seeds: Sequence[int], only: Sequence[str] = (), out: str = "results/check/calibration",
              root: Optional[str] = None, log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Runs each study entry at every seed; per metric the seeds' values and the band_rule band."""
    spec = ex.load(path, root).select(False, only)
    base = Path(root) if root else Path(path).resolve().parent.parent
    folder = Path(out)
    found: Dict[str, Any] = {}
    for e in spec.studies:
        payloads = []
        for s in seeds:
            t = time.perf_counter()
            payloads.append(_run_study(e, s, base, folder))
            log(f"[calibrate] {e.name} seed {s}: {time.perf_counter() - t:.1f} s")
        for m in e.metrics:
            values = [_number(ex.lookup(p, m.path)) for p in payloads]
            vals = [v for v in values if v is not None]
            rec: Dict[str, Any] = {"values": values}
            if len(vals) == len(values):
                rec.update(n=len(vals), mean=statistics.fmean(vals), sd=statistics.stdev(vals) if len(vals) > 1 else 0.0,
                           min=min(vals), max=max(vals), band=band_rule(vals, len(e.seeds)), check_seeds=len(e.seeds))
            found.setdefault(e.name, {})[m.path] = rec
    results.write_json(str(folder / "calibration.json"), {"file": str(path), "seeds": list(seeds), "metrics": found})
    return found
