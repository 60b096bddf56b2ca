"""Studies runnable from a config, by name: each is a ``Study`` (see ``base``) registered here."""
from __future__ import annotations

from typing import Dict

from .base import Output, Study, subset
from .dedup_recall import DedupRecall, RecallStudy
from .fmnist_baseline import FmnistBaseline
from .local_rerank import LocalRerank
from .localisation import Localisation
from .noisy_labels import NoisyLabels
from .tags import Tags
from .visual_search import VisualSearch

STUDIES: Dict[str, Study] = {s.name: s for s in (DedupRecall(), FmnistBaseline(), LocalRerank(), Localisation(), NoisyLabels(),
                                                  Tags(), VisualSearch())}

__all__ = ["Output", "RecallStudy", "STUDIES", "Study", "get", "subset"]


def get(name: str) -> Study:
    if name not in STUDIES:
        raise ValueError(f"unknown study '{name}'; known: {sorted(STUDIES)}")
    return STUDIES[name]
