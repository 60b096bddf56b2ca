"""Product-region localisation (the C++ core: ``cpp/include/lookalike/localise/``): class
activation maps of a classifier (CAM, Grad-CAM), boxes from them, the weakly-supervised
localisation metrics (GT-known box accuracy, MaxBoxAcc), the trivial baselines and crops. Options
are the C++ structs' (``CamOptions``, ``LocaliseOptions``) given as keywords.

>>> import torch
>>> from lookalike import localise, train
>>> net = train.network(backbone="convnet", channels=[8], in_channels=3, embedding_dim=0, num_classes=2)
>>> photos = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
>>> boxes, maps, classes, scores = localise.localise(net, photos, classes=torch.tensor([1]))
>>> tuple(boxes.shape), tuple(maps.shape)
((1, 4), (1, 32, 32))
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import torch

from . import _core
from ._tensors import as_tensor
from .options import make

__all__ = ["cam_methods", "activation_maps", "localise", "boxes_from_maps", "box_iou", "box_accuracy",
           "threshold_grid", "whole_boxes", "centred_mean_boxes", "crop", "check_boxes", "fit_probe", "probe_logits",
           "pooled_features"]


def _net(net: Any):
    return getattr(net, "_m", net)  # a train.Model or the core Net


def _images(images: Any) -> torch.Tensor:
    t = as_tensor(getattr(images, "images", images), "images", dim=4)
    if t.dtype not in (torch.uint8, torch.float32):
        raise ValueError(f"images: expected uint8 or float32, got {t.dtype}")
    return t


def _opt_long(x: Any, name: str) -> Optional[torch.Tensor]:
    return None if x is None else as_tensor(x, name, torch.int64)


def cam_methods() -> List[str]:
    """The activation-map methods (cam, gradcam; ``auto`` picks cam when the head allows it)."""
    return list(_core.localise.cam_methods())


def activation_maps(net: Any, images: Any, classes: Any = None, image_index: Any = None,
                    **options: Any) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(maps float [M, h, w], classes int64 [M], scores float [M])`` for M (image, class) rows:
    ``classes`` int64 ``[M]`` (-1: the image's top class; None: the top class of every image),
    ``image_index`` int64 ``[M]`` (None: row i is image i). ``options``: CamOptions (``method``
    auto/cam/gradcam, ``batch_size``, ``device``)."""
    return _core.localise.activation_maps(_net(net), _images(images), _opt_long(classes, "classes"),
                                          _opt_long(image_index, "image_index"),
                                          make(_core.localise.CamOptions, options, where="activation_maps"))


def localise(net: Any, images: Any, classes: Any = None, image_index: Any = None, sizes: Any = None,
             **options: Any) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(boxes int64 [M, 4], maps, classes, scores)``: each row's box at ``threshold`` (a fraction
    of its map's range), in the pixels of ``sizes`` (int64 ``[M, 2]`` or ``[2]``, width and height;
    None: the images' own). ``options``: LocaliseOptions (``cam`` dict, ``threshold``, ``region``
    largest/all, ``threads``)."""
    return _core.localise.localise(_net(net), _images(images), _opt_long(classes, "classes"),
                                   _opt_long(image_index, "image_index"), _opt_long(sizes, "sizes"),
                                   make(_core.localise.LocaliseOptions, options, where="localise"))


def boxes_from_maps(maps: Any, sizes: Any, thresholds: Sequence[float], region: str = "largest",
                    threads: int = 0) -> torch.Tensor:
    """int64 ``[T, M, 4]``: each map's box at each threshold (see ``boxes.h``)."""
    return _core.localise.boxes_from_maps(as_tensor(maps, "maps", torch.float32, dim=3),
                                          as_tensor(sizes, "sizes", torch.int64),
                                          [float(t) for t in thresholds], region, int(threads))


def box_iou(a: Any, b: Any) -> torch.Tensor:
    """IoU of aligned boxes int64 ``[M, 4]``: float ``[M]``."""
    return _core.localise.box_iou(as_tensor(a, "a", torch.int64, dim=2), as_tensor(b, "b", torch.int64, dim=2))


def check_boxes(boxes: Any, sizes: Any, where: str = "boxes") -> None:
    """ValueError unless every box lies inside its image (``sizes`` ``[M, 2]`` or ``[2]``)."""
    _core.localise.check_boxes(as_tensor(boxes, "boxes", torch.int64), as_tensor(sizes, "sizes", torch.int64), where)


def threshold_grid(step: float) -> List[float]:
    """0, step, 2 step, ... below 1: the CAM thresholds MaxBoxAcc maximises over."""
    return list(_core.localise.threshold_grid(float(step)))


def box_accuracy(boxes: Any, truth: Any, groups: Any, num_groups: int, iou_threshold: float = 0.5):
    """Box accuracy at each threshold (``boxes`` int64 ``[T, M, 4]``, ``truth`` ``[M, 4]``,
    ``groups`` ``[M]``): ``.accuracy`` ``[T]``, ``.max_box_acc``, ``.best``, ``.group_accuracy``
    ``[G, T]``, ``.group_max`` ``[G]``, ``.group_rows``, ``.iou`` ``[T, M]``."""
    boxes = as_tensor(boxes, "boxes", torch.int64)
    if boxes.dim() == 2:
        boxes = boxes.unsqueeze(0)
    return _core.localise.box_accuracy(boxes, as_tensor(truth, "truth", torch.int64),
                                       as_tensor(groups, "groups", torch.int64), int(num_groups),
                                       float(iou_threshold))


def whole_boxes(sizes: Any) -> torch.Tensor:
    """The whole photo as each row's box (``sizes`` int64 ``[M, 2]``)."""
    return _core.localise.whole_boxes(as_tensor(sizes, "sizes", torch.int64, dim=2))


def centred_mean_boxes(reference: Any, reference_groups: Any, reference_sizes: Any, groups: Any,
                       sizes: Any) -> torch.Tensor:
    """A centred box of each group's mean relative size (taken from the reference boxes)."""
    t = lambda x, n: as_tensor(x, n, torch.int64)  # noqa: E731
    return _core.localise.centred_mean_boxes(t(reference, "reference"), t(reference_groups, "reference_groups"),
                                             t(reference_sizes, "reference_sizes"), t(groups, "groups"),
                                             t(sizes, "sizes"))


def crop(images: Any, boxes: Any, side: int, threads: int = 0) -> torch.Tensor:
    """The boxes' regions of uint8 images ``[N, C, H, W]``, each resized to side x side (an empty
    box: the whole image)."""
    return _core.localise.crop_images(as_tensor(getattr(images, "images", images), "images", torch.uint8, dim=4),
                                      as_tensor(boxes, "boxes", torch.int64, dim=2), int(side), int(threads))


def pooled_features(net: Any, images: Any, batch_size: int = 64, device: str = "cpu") -> torch.Tensor:
    """float ``[N, D]``: the pooled features a network's classifier reads (not normalised)."""
    return _core.train.pooled_features(_net(net), _images(images), int(batch_size), device)


def probe_logits(net: Any, features: Any) -> torch.Tensor:
    """float ``[N, K]``: the network's classifier over pooled ``features`` (what ``predict`` gives
    for the same images, without the backbone)."""
    return _core.train.probe_logits(_net(net), as_tensor(features, "features", torch.float32, dim=2))


def fit_probe(net: Any, features: Any, targets: Any, **options: Any) -> dict:
    """Trains the network's classifier alone on ``features`` (``pooled_features``): ``targets``
    int64 ``[N]`` (softmax) or 0/1 float ``[N, K]`` (one sigmoid per tag). ``options``:
    ProbeOptions (``epochs``, ``lr``, ``weight_decay``, ``batch_size``, ``pos_weight``, ``seed``)."""
    t = as_tensor(targets, "targets")
    t = t.to(torch.float32) if t.dim() == 2 else t.to(torch.int64)
    return dict(_core.train.fit_linear_probe(_net(net), as_tensor(features, "features", torch.float32, dim=2), t,
                                             make(_core.train.ProbeOptions, options, where="probe")))
