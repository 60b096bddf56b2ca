"""Tags: multi-label classification on the C++ core (``cpp/include/lookalike/train/tag_heads.h``,
``tagger.h``, ``eval/multilabel.h``, ``eval/thresholds.h``).

Tags are named ``family:value`` (``colour:Blue``, ``usage:Casual``, ``pattern:striped``); a name
without ``:`` is in family ``tag``. ``fit`` trains one output per tag on any backbone with the
C++ Trainer: multi-label families with a loss by name (``tag_loss={"name": "asl"}``: bce, focal,
asl) and per-tag positive weights (``tag_pos_weight``), exclusive families (``exclusive=["colour"]``)
as one softmax each. A ``Tagger`` carries the network, the tags and the per-tag thresholds
chosen on validation photos; ``save``/``load`` keep them together.

>>> import torch
>>> from lookalike import tags
>>> x = torch.randint(0, 255, (64, 3, 16, 16), dtype=torch.uint8)
>>> y = (torch.rand(64, 2) < 0.5).float()
>>> r = tags.fit(x, y, ["style:cute", "style:formal"], epochs=1, batch_size=32, channels=[8],
...              embedding_dim=8, progress="off")
>>> r.tagger.scores(x).shape
torch.Size([64, 2])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from . import _core
from ._tensors import as_tensor
from .options import make
from .train import Model, _images, make_options

__all__ = ["losses", "family", "families", "known", "head_weights", "fit", "fit_probe", "evaluate", "rerank", "share_at_k", "Tagger",
           "TagResult", "load"]


def losses() -> List[str]:
    """The multi-label losses by name (C++ registry), sorted."""
    return list(_core.train.multilabel_losses())


def family(tag: str) -> str:
    """The family of a tag name: the part before the first ``:`` (``tag`` when none)."""
    return _core.train.tag_family(str(tag))


def families(tags: Sequence[str], exclusive: Sequence[str] = ()) -> List[Dict[str, Any]]:
    """``[{"name", "columns", "exclusive"}]``: the families of ``tags`` in order of appearance."""
    return [dict(f) for f in _core.train.tag_families(list(tags), list(exclusive))]


def _targets(targets: Any, name: str = "targets") -> torch.Tensor:
    return as_tensor(targets, name, dim=2).float()


def known(tags: Sequence[str], exclusive: Sequence[str], targets: Any) -> torch.Tensor:
    """bool ``[N, T]``: where targets are known (an exclusive family's tags only on the photos
    labelled in it)."""
    return _core.train.tag_known(list(tags), list(exclusive), _targets(targets))


def head_weights(tags: Sequence[str], targets: Any, **options: Any) -> Tuple[torch.Tensor, List[str]]:
    """``(per-tag weights float [T], tags without a positive)`` the heads derive from training
    targets under ``options`` (TagHeadOptions: tag_loss, tag_pos_weight, exclusive)."""
    o = make(_core.train.TagHeadOptions, options, where="tags")
    w, empty = _core.train.tag_heads_info(list(tags), o, _targets(targets))
    return w, list(empty)


class Tagger:
    """A network with one output per tag, its tags, exclusive families and thresholds."""

    def __init__(self, core: "_core.train.Tagger") -> None:
        self._t = core

    @property
    def tags(self) -> List[str]:
        return list(self._t.tags)

    @property
    def exclusive(self) -> List[str]:
        return list(self._t.exclusive)

    @property
    def thresholds(self) -> Optional[torch.Tensor]:
        """float ``[T]`` once ``fit_thresholds`` ran (or loaded with the file), else None."""
        return self._t.thresholds

    @property
    def model(self) -> Model:
        return Model(self._t.net)

    def scores(self, images: Any, batch_size: int = 256, device: str = "cpu") -> torch.Tensor:
        """float ``[N, T]`` in [0, 1]: sigmoid per multi-label tag, softmax per exclusive family."""
        return self._t.scores(_images(images), int(batch_size), device)

    def fit_thresholds(self, scores: Any, targets: Any, **options: Any) -> Dict[str, torch.Tensor]:
        """Chooses and keeps each tag's threshold from validation ``scores`` and ``targets``
        (ThresholdOptions: ``rule`` f1 | precision, ``precision``, ``fallback``); returns
        threshold, f1, precision, recall, fallback per tag on those photos."""
        o = make(_core.eval.ThresholdOptions, options, where="thresholds")
        return dict(self._t.fit_thresholds(as_tensor(scores, "scores", dim=2).float(), _targets(targets), o))

    def predict(self, scores: Any) -> torch.Tensor:
        """0/1 float ``[N, T]``: scores >= the thresholds."""
        return self._t.predict(as_tensor(scores, "scores", dim=2).float())

    def save(self, path: str) -> None:
        """Writes network, tags, families and thresholds to one file atomically."""
        self._t.save(str(path))

    def __repr__(self) -> str:
        return f"Tagger({len(self.tags)} tags, exclusive={self.exclusive}, thresholds={'set' if self.thresholds is not None else 'none'})"


def load(path: str) -> Tagger:
    """A tagger written by ``Tagger.save`` (OSError naming the file when it is not one)."""
    return Tagger(_core.train.load_tagger(str(path)))


@dataclass
class TagResult:
    tagger: Tagger
    history: List[Dict[str, float]] = field(default_factory=list)


def fit(images: Any, targets: Any, tags: Sequence[str], *, val: Optional[Tuple[Any, Any]] = None,
        on_epoch: Optional[Callable[[Dict[str, float]], bool]] = None, **options: Any) -> TagResult:
    """Trains a tagger with the C++ loop: images uint8/float ``[N, C, H, W]``, targets 0/1
    ``[N, T]``, tag names ``[T]``; ``val`` (images, targets) evaluated each epoch (val_loss,
    val_map_macro, val_map_micro over the known targets). ``options``: the Trainer's keywords
    (``lookalike.train.default_options()``), including tag_loss, tag_pos_weight, exclusive."""
    x, y = _images(images), _targets(targets)
    vx = vy = None
    if val is not None:
        if len(val) != 2:
            raise ValueError("val must be a pair (images, targets)")
        vx, vy = _images(val[0]), _targets(val[1], "val targets")
    opts = make_options(**options)
    cb = (lambda rec: bool(on_epoch(dict(rec)) is not False)) if on_epoch else None
    net, history = _core.train.fit_tags(x, y, list(tags), vx, vy, opts, cb)
    tagger = _core.train.Tagger(net, list(tags), list(opts.tags.exclusive))
    return TagResult(Tagger(tagger), [dict(h) for h in history])


def evaluate(model: Any, images: Any, targets: Any, tags: Sequence[str], batch_size: int = 256,
             device: str = "cpu", **options: Any) -> Dict[str, float]:
    """``{"loss", "map_macro", "map_micro"}`` of a network (Model, or a Tagger's) on a tag set."""
    net = model._t.net if isinstance(model, Tagger) else getattr(model, "_m", model)
    o = make(_core.train.TagHeadOptions, options, where="tags")
    return dict(_core.train.evaluate_tags(net, _images(images), _targets(targets), list(tags), o,
                                          int(batch_size), device))


_HEAD_KEYS = ("tag_loss", "tag_pos_weight", "exclusive")


def fit_probe(features: Any, targets: Any, tags: Sequence[str], **options: Any) -> Tuple["_core.train.TagProbe", Dict[str, float]]:
    """A linear tag classifier on fixed features float ``[N, D]`` (pooled image features, title
    embeddings, or both concatenated: late fusion), standardised, trained with the tag heads' loss
    (``tag_loss``, ``tag_pos_weight``, ``exclusive``) and the probe's schedule (``epochs``, ``lr``,
    ``weight_decay``, ``batch_size``, ``seed``). Returns (probe, {"loss", "seconds"});
    ``probe.scores(features)`` gives float ``[N, T]``."""
    heads = make(_core.train.TagHeadOptions, {k: v for k, v in options.items() if k in _HEAD_KEYS}, where="tags")
    probe = make(_core.train.ProbeOptions, {k: v for k, v in options.items() if k not in _HEAD_KEYS}, where="probe")
    p, record = _core.train.fit_tag_probe(as_tensor(features, "features", dim=2).float(), _targets(targets),
                                          list(tags), heads, probe)
    return p, dict(record)


def rerank(candidates: Any, similarities: Any, tag_scores: Any, thresholds: Any, wanted: Any,
           **options: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    """Tag-aware search ("like this photo, with tag T"): a visual search's candidates int64 ``[Q, C]``
    (gallery rows, -1: none) and similarities ``[Q, C]`` filtered (``mode="filter"``: the wanted
    tag's score >= its threshold) or re-ranked (``mode="rerank"``: similarity + ``weight`` x tag
    score) by the gallery's tag scores ``[G, T]``; ``wanted`` int64 ``[Q]``. Returns (ids, scores)
    ``[Q, k]``, -1 / NaN padded."""
    o = make(_core.index.TagRerankOptions, options, where="rerank")
    return _core.index.tag_rerank(as_tensor(candidates, "candidates", torch.int64, 2),
                                  as_tensor(similarities, "similarities", dim=2).float(),
                                  as_tensor(tag_scores, "tag_scores", dim=2).float(),
                                  as_tensor(thresholds, "thresholds", dim=1).float(),
                                  as_tensor(wanted, "wanted", torch.int64, 1), o)


def share_at_k(ids: Any, targets: Any, wanted: Any) -> float:
    """Mean share of each query's results ``[Q, k]`` whose targets ``[G, T]`` carry its wanted tag
    (int64 ``[Q]``; -1: the query is not counted)."""
    return float(_core.index.tag_share_at_k(as_tensor(ids, "ids", torch.int64, 2), _targets(targets),
                                            as_tensor(wanted, "wanted", torch.int64, 1)))
