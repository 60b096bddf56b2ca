"""Duplicate-product detection, one module per concept:

* ``listings``: ``listings(path, ...)`` reads a CSV / JSON Lines file of offers; ``load_set(name)``
  reads the three real sets (``amazon_google``, ``shopee_dev``, ``fashion_products`` with
  simulated re-listings).
* ``text``: ``Bm25Index`` (Xapian) and the learned ``TextEncoder``.
* ``pipelines``: candidate generators by name (``bm25``, ``text``, ``image``, ``phash``).
* ``matcher``: pair features, the ``Matcher``, pipeline comparison, cluster scores.
* the recall study's loop (C++ end to end): ``run_recall_study`` (``lookalike run
  experiments/dedup_<set>.yaml`` drives it).
* ground truth and candidate lists (C++): ``split_groups``, ``query_rows``, ``same_group``,
  ``pair_labels``, ``true_pairs``, ``candidate_pairs``, ``drop_self``, ``summarise``.

>>> idx = Bm25Index(["red cotton shirt", "blue cotton shirt", "red wine glass"])
>>> ids, scores = idx.search(["red shirt"], n=2)
>>> ids[0].tolist()
[0, 1]
"""
from __future__ import annotations

from typing import Tuple

import torch

from .. import _core
from .listings import (Listings, data_dir, listings, load_set, perturb_image, perturb_title,
                       simulate_relistings, to_core)
from .matcher import Matcher, cluster_scores, compare_pipelines, pair_features
from .pipelines import PIPELINES, Pipeline, make_pipeline, pipelines
from .text import Bm25Index, TextEncoder, tokenize

__all__ = ["Bm25Index", "Listings", "listings", "load_set", "data_dir", "split_groups", "TextEncoder",
           "PIPELINES", "Pipeline", "make_pipeline", "pipelines", "Matcher", "pair_features", "compare_pipelines",
           "cluster_scores", "summarise", "tokenize", "perturb_title", "perturb_image", "simulate_relistings",
           "query_rows", "candidate_pairs", "pairs_in", "pair_labels", "same_group", "true_pairs", "drop_self",
           "best_f1_threshold", "to_core", "run_recall_study"]

_d = _core.dedup
true_pairs = _d.true_pairs
same_group = _d.same_group
pair_labels = _d.pair_labels
drop_self = _d.drop_self
candidate_pairs = _d.candidate_pairs
pairs_in = _d.pairs_in
query_rows = _d.query_rows
summarise = _d.summarise
best_f1_threshold = _d.best_f1_threshold
run_recall_study = _d.run_recall_study  # the study's loop; see studies/dedup_recall.py


def split_groups(groups: torch.Tensor, test_fraction: float, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(train rows, test rows), int64, split by group: a group is wholly on one side (C++)."""
    return _d.split_groups(groups, float(test_fraction), int(seed))
