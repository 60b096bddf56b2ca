"""The checked-in expectations (``experiments/expected.yaml``): per CI-sized study config, metrics
with a tolerance band; per benchmark script, side-by-side speed ratios with a minimum. Loading
checks every key (an unknown key or a malformed band is an error naming where it is).

    studies:
      <entry>: {config: <yaml>, set: [k=v, ...], seeds: [0], seed_sets: ["seed={seed}"], quick: true,
                metrics: {<path>: {band: [lo, hi], seeds: {n, mean, sd, min, max}}}}
    speed:
      <entry>: {script: <py>, args: [...], quick: false, ratios: {<path>: {min: x, measured: y}}}

A metric path is dotted keys into the study's ``metrics.json`` (``metrics.test_accuracy``); a
segment ``name[key=value,...]`` picks the one list element whose fields match
(``metrics.table[noise=symmetric-50,strategy=none].test_accuracy``); a number indexes a list.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..config import ConfigError, load_yaml

_SELECT = re.compile(r"^([^\[\]]*)\[([^\]]+)\]$")


@dataclass
class MetricSpec:
    path: str
    band: Tuple[float, float]
    seeds: Dict[str, Any] = field(default_factory=dict)  # the calibration that set the band


@dataclass
class StudyEntry:
    name: str
    config: str
    sets: List[str]
    seeds: List[int]
    quick: bool
    metrics: List[MetricSpec]
    # How a seed reaches the config: --set templates, {seed} replaced (a study seeding its runs
    # from a list takes "seeds=[{seed}]").
    seed_sets: List[str] = field(default_factory=lambda: ["seed={seed}"])


@dataclass
class RatioSpec:
    """A ratio measured side by side in one run, with a floor (``min``: x times faster than the
    peer) and/or a ceiling (``max``: an overhead ratio, ours / peer time)."""
    path: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    measured: Optional[float] = None  # what the bound was set from (documentation)

    def expected(self) -> str:
        parts = ([f">= {self.minimum:.4g}"] if self.minimum is not None else []) + \
            ([f"<= {self.maximum:.4g}"] if self.maximum is not None else [])
        return ", ".join(parts)

    def holds(self, v: float) -> bool:
        return (self.minimum is None or v >= self.minimum) and (self.maximum is None or v <= self.maximum)


@dataclass
class SpeedEntry:
    name: str
    script: str
    args: List[str]
    quick: bool
    ratios: List[RatioSpec]
    compare: List[str] = field(default_factory=list)  # times/throughputs bench-compare also tests


@dataclass
class Expected:
    path: Path
    studies: List[StudyEntry]
    speed: List[SpeedEntry]

    def select(self, quick: bool, only: Sequence[str] = ()) -> "Expected":
        """The entries a run checks: the quick ones (``--quick``) or all, optionally by name."""
        known = {e.name for e in self.studies} | {e.name for e in self.speed}
        unknown = sorted(set(only) - known)
        if unknown:
            raise ConfigError(f"{self.path}: no entry named {unknown}; known: {sorted(known)}")

        def keep(e: Any) -> bool:
            return (not only or e.name in only) and (e.quick or not quick)

        return Expected(self.path, [e for e in self.studies if keep(e)], [e for e in self.speed if keep(e)])


def _keys(where: str, node: Any, allowed: Sequence[str], required: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(node, dict):
        raise ConfigError(f"{where}: expected a mapping, got {node!r}")
    unknown = sorted(set(node) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(allowed)}")
    missing = [k for k in required if k not in node]
    if missing:
        raise ConfigError(f"{where}: missing {missing}")
    return node


def _number(where: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise ConfigError(f"{where}: expected a finite number, got {v!r}")
    return float(v)


def _strings(where: str, v: Any) -> List[str]:
    if not isinstance(v, list) or not all(isinstance(s, (str, int, float)) for s in v):
        raise ConfigError(f"{where}: expected a list of strings, got {v!r}")
    return [str(s) for s in v]


def _entry(where: str, e: Mapping[str, Any], file_key: str, map_key: str, root: Path) -> Tuple[str, bool]:
    """What study and speed entries share: their file exists, their map of checks is non-empty,
    ``quick`` is a bool. Returns (file, quick)."""
    path = str(e[file_key])
    if not (root / path).is_file():
        raise ConfigError(f"{where}.{file_key}: '{path}' does not exist (relative to {root})")
    if not isinstance(e[map_key], dict) or not e[map_key]:
        raise ConfigError(f"{where}.{map_key}: expected a non-empty mapping of path -> bounds")
    quick = e.get("quick", False)
    if not isinstance(quick, bool):
        raise ConfigError(f"{where}.quick: expected true/false, got {quick!r}")
    return path, quick


def _study(where: str, name: str, node: Any, root: Path) -> StudyEntry:
    e = _keys(where, node, ("config", "set", "seeds", "seed_sets", "quick", "metrics", "note"), ("config", "metrics"))
    config, quick = _entry(where, e, "config", "metrics", root)
    seeds = e.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"{where}.seeds: expected a non-empty list of integers, got {seeds!r}")
    metrics = []
    for path, spec in e["metrics"].items():
        at = f"{where}.metrics.{path}"
        s = _keys(at, spec, ("band", "seeds"), ("band",))
        band = s["band"]
        if not isinstance(band, list) or len(band) != 2:
            raise ConfigError(f"{at}.band: expected [lo, hi], got {band!r}")
        lo, hi = _number(at + ".band", band[0]), _number(at + ".band", band[1])
        if lo > hi:
            raise ConfigError(f"{at}.band: lo {lo} > hi {hi}")
        metrics.append(MetricSpec(str(path), (lo, hi), dict(s.get("seeds") or {})))
    seed_sets = _strings(where + ".seed_sets", e.get("seed_sets", ["seed={seed}"]))
    if not seed_sets or not all("{seed}" in t for t in seed_sets):
        raise ConfigError(f"{where}.seed_sets: each template must contain {{seed}}, got {seed_sets!r}")
    return StudyEntry(name, config, _strings(where + ".set", e.get("set", [])), seeds, quick, metrics, seed_sets)


def _speed(where: str, name: str, node: Any, root: Path) -> SpeedEntry:
    e = _keys(where, node, ("script", "args", "quick", "ratios", "compare", "note"), ("script", "ratios"))
    script, quick = _entry(where, e, "script", "ratios", root)
    ratios = []
    for path, spec in e["ratios"].items():
        at = f"{where}.ratios.{path}"
        s = _keys(at, spec, ("min", "max", "measured"), ())
        if "min" not in s and "max" not in s:
            raise ConfigError(f"{at}: needs min and/or max")
        bound = {k: _number(f"{at}.{k}", s[k]) if k in s else None for k in ("min", "max", "measured")}
        ratios.append(RatioSpec(str(path), bound["min"], bound["max"], bound["measured"]))
    return SpeedEntry(name, script, _strings(where + ".args", e.get("args", [])), quick, ratios,
                      _strings(where + ".compare", e.get("compare", [])))


def load(path: str, root: Optional[str] = None) -> Expected:
    """Reads and checks an expectations file; paths in it are relative to ``root`` (default: the
    folder above the file's, i.e. the repository for ``experiments/expected.yaml``)."""
    p = Path(path)
    base = Path(root) if root else p.resolve().parent.parent
    raw = _keys(str(p), load_yaml(str(p)), ("studies", "speed"), ())
    studies = [_study(f"{p}: studies.{n}", str(n), v, base) for n, v in (raw.get("studies") or {}).items()]
    speed = [_speed(f"{p}: speed.{n}", str(n), v, base) for n, v in (raw.get("speed") or {}).items()]
    names = [e.name for e in studies] + [e.name for e in speed]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{p}: entry names used twice: {dup}")
    if not names:
        raise ConfigError(f"{p}: no studies and no speed entries")
    return Expected(p, studies, speed)


def lookup(payload: Any, path: str) -> Any:
    """The value at a metric path (see the module doc); KeyError naming the missing segment."""
    node = payload
    done: List[str] = []
    for seg in path.split("."):
        m = _SELECT.match(seg)
        key, select = (m.group(1), m.group(2)) if m else (seg, None)
        if key:
            if isinstance(node, list) and key.lstrip("-").isdigit():
                i = int(key)
                if not -len(node) <= i < len(node):
                    raise KeyError(f"'{'.'.join(done + [seg])}': index {i} out of range ({len(node)} items)")
                node = node[i]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                have = sorted(node)[:20] if isinstance(node, dict) else type(node).__name__
                raise KeyError(f"'{'.'.join(done + [key])}' not found; there: {have}")
        if select is not None:
            if not isinstance(node, list):
                raise KeyError(f"'{'.'.join(done + [seg])}': [..] selects from a list, found {type(node).__name__}")
            want = dict(kv.split("=", 1) for kv in select.split(","))
            hits = [x for x in node if isinstance(x, dict) and all(str(x.get(k)) == v for k, v in want.items())]
            if len(hits) != 1:
                raise KeyError(f"'{'.'.join(done + [seg])}': {len(hits)} elements match {want} (need exactly 1)")
            node = hits[0]
        done.append(seg)
    return node
