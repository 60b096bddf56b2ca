"""Runs a study from its config: ``lookalike run experiments/<name>.yaml [--set k=v] [--out DIR]``."""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Union

from . import _core, config, report_html, results, studies


def resolve(config_path: Union[str, Dict[str, Any]], sets: Iterable[str] = ()) -> Dict[str, Any]:
    """The full config of a study: its defaults, the file (or a dict), then the overrides (checked)."""
    loaded = copy.deepcopy(config_path) if isinstance(config_path, dict) else config.load_yaml(config_path)
    raw = config.apply_sets(loaded, sets)
    name = raw.get("study")
    if not isinstance(name, str):
        raise config.ConfigError(f"config '{config_path}' must name its study (study: <name>); "
                                 f"known: {sorted(studies.STUDIES)}")
    study = studies.get(name)
    cfg = config.merge(study.DEFAULTS, raw)
    config.check_applies(cfg, study.DEFAULTS, study.APPLIES)
    study.check(cfg)
    return cfg


def run(config_path: Union[str, Dict[str, Any]], sets: Iterable[str] = (), out: Optional[str] = None) -> Dict[str, Any]:
    """Runs the study; writes ``<out or results/<name>>/metrics.json`` and ``report.html`` (one
    self-contained page: report, figures, files) atomically. Returns the metrics."""
    cfg = resolve(config_path, sets)
    study = studies.get(cfg["study"])
    # One of several ranks (lookalike run --nproc N, torchrun): rank 0 alone writes the results.
    rank = int(_core.dist.launch()["rank"])
    output = studies.Output(Path(out) if out else Path("results") / cfg["name"], label=cfg["name"],
                            writes=rank == 0)
    threads = _core.set_threads(int(cfg.get("threads", 0)))
    t0 = time.perf_counter()
    report = study.run(cfg, output)
    total = time.perf_counter() - t0
    payload = {
        "study": cfg["study"],
        "name": cfg["name"],
        "seed": cfg["seed"],
        "config": cfg,
        "config_file": str(config_path) if not isinstance(config_path, dict) else None,
        "overrides": list(sets),
        "versions": dict(results.versions(), threads=threads),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(time.time() - total)),
    }
    payload.update(report)
    payload["timings"] = dict(output.timings, **report.get("timings", {}), total_s=total)
    payload["artifacts"] = ["metrics.json"] + output.artifacts + ["report.html"]
    if rank != 0:
        return dict(payload, rank=rank)
    output.json("metrics.json", payload)
    report_html.write(output.folder, payload)
    return payload
