"""Studies runnable from a config: name -> module with ``DEFAULTS`` and ``run(cfg, out_dir)``."""
from __future__ import annotations

from types import ModuleType
from typing import Dict

from . import dedup_recall, fmnist_baseline, noisy_labels
from .dedup_recall import RecallStudy  # the duplicate recall study as a class

STUDIES: Dict[str, ModuleType] = {
    "dedup_recall": dedup_recall,
    "fmnist_baseline": fmnist_baseline,
    "noisy_labels": noisy_labels,
}


def get(name: str) -> ModuleType:
    if name not in STUDIES:
        raise ValueError(f"unknown study '{name}'; known: {sorted(STUDIES)}")
    return STUDIES[name]
