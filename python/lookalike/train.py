"""The C++ fine-tuning loop and the model handle it returns."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from . import _core
from ._tensors import as_tensor, check_same_kind

def default_options() -> Dict[str, Any]:
    """Every option ``fit`` takes, with its default: the C++ ``TrainOptions`` in the flat keyword
    form (the model's and the filter's fields lifted to the top)."""
    return dict(_core.train.TrainOptions().to_flat_dict())


def make_options(**options: Any) -> "_core.train.TrainOptions":
    """Builds the C++ ``TrainOptions`` from flat keywords; an unknown key or a wrong type is a
    ValueError naming it (and the known keys), a bad value one naming the option."""
    o = _core.train.TrainOptions()
    o.update_flat({k: ("" if v is None and k in ("checkpoint_dir", "log_path") else v) for k, v in options.items()},
                  "")
    o.validate()
    return o


def backbones() -> List[str]:
    """The backbone names (C++ registry), sorted."""
    return list(_core.train.backbones())


def network(**options: Any) -> "Model":
    """A new network from the model's options (``backbone=``, ``in_channels=``, ``weights=``,
    ``embedding_dim=``, ``num_classes=``, ... see ``_core.train.NetOptions.fields()``); pretrained
    ``weights`` (.tflite, Keras .h5, torch.save state_dict) are loaded. Unknown keys raise.

    >>> m = network(backbone="resnet8", in_channels=3, embedding_dim=0, num_classes=10)
    >>> m.options["backbone"]
    'resnet8'
    """
    o = _core.train.NetOptions()
    o.update(options, "model")
    return Model(_core.train.Net(o))


class Model:
    """A trained network (C++ module: backbone, embedding head, classifier). ``embed`` gives
    L2-normalised embeddings."""

    def __init__(self, core_model: "_core.train.Net") -> None:
        self._m = core_model

    @property
    def options(self) -> Dict[str, Any]:
        return json.loads(self._m.options_json())

    def embed(self, images: Any, batch_size: int = 1024, device: str = "cpu", crop: Any = None) -> torch.Tensor:
        """float32 ``[N, D]`` L2-normalised embeddings of uint8/float ``[N, C, H, W]`` images.

        ``crop``: embed a region of each image instead of the whole: boxes int64 ``[N, 4]`` (x0, y0,
        x1, y1 in the images' pixels; an empty box keeps the whole image), or a classifier ``Model``
        whose top class's activation-map box (``lookalike.localise``) is the region. The region is
        resized to the images' side (uint8 images)."""
        x = _images(images)
        if crop is not None:
            from . import localise
            boxes = (localise.localise(crop, x, cam={"device": device})[0] if isinstance(crop, Model) else crop)
            x = localise.crop(x, boxes, x.shape[-1])
        return self._m.infer(x, int(batch_size), device, False)[0]

    def predict(self, images: Any, batch_size: int = 1024, device: str = "cpu") -> torch.Tensor:
        """float32 ``[N, num_classes]`` logits."""
        return self._m.infer(_images(images), int(batch_size), device, True)[1]

    def evaluate(self, images: Any, labels: Any, batch_size: int = 1024, device: str = "cpu") -> Dict[str, float]:
        """Cross-entropy ``loss`` and ``accuracy`` on a labelled set."""
        check_same_kind(images=images, labels=labels)
        return dict(_core.train.evaluate(self._m, _images(images), as_tensor(labels, "labels", torch.int64, 1),
                                         int(batch_size), device))

    def feature_map(self, images: Any) -> torch.Tensor:
        """The backbone's feature map float ``[N, C, h, w]`` of uint8/float images (eval mode)."""
        return self._m.feature_map(_images(images))

    def load_pretrained(self, path: str) -> Dict[str, Any]:
        """Loads weights from a .tflite, Keras .h5 or torch.save state_dict file; returns what was
        loaded (``format``, ``tensors_loaded``, ``skipped``)."""
        return dict(self._m.load_pretrained(str(path)))

    @property
    def backbone_info(self) -> Dict[str, Any]:
        """What the backbone expects and gives: channels, stride, min_input, input_size, stages,
        mean, std."""
        return dict(self._m.backbone_info())

    def state_dict(self) -> Dict[str, torch.Tensor]:
        return dict(self._m.state_dict())

    def num_parameters(self) -> int:
        return self._m.num_parameters()

    def save(self, path: str) -> None:
        """Writes options and weights atomically."""
        self._m.save(str(path))

    @classmethod
    def load(cls, path: str) -> "Model":
        return cls(_core.train.load_model(str(path)))

    def __repr__(self) -> str:
        return f"Model({self.options}, parameters={self.num_parameters()})"


@dataclass
class TrainResult:
    model: Model
    history: List[Dict[str, float]] = field(default_factory=list)


def _images(x: Any) -> torch.Tensor:
    t = as_tensor(x, "images", dim=4)
    if t.dtype not in (torch.uint8, torch.float32):
        raise ValueError(f"images: expected uint8 or float32, got {t.dtype}")
    return t


def fit(images: Any, labels: Any, *, val: Optional[Tuple[Any, Any]] = None,
        on_epoch: Optional[Callable[[Dict[str, float]], bool]] = None, clean_labels: Any = None,
        **options: Any) -> TrainResult:
    """Trains a network (``backbone=`` one of ``backbones()``) with the C++ loop (GIL released).

    images: uint8/float ``[N, C, H, W]``; labels: int64 ``[N]``; val: optional (images, labels)
    validated after each epoch. ``options``: see ``default_options()`` (unknown keys raise).
    ``on_epoch(record)`` is called after each epoch; returning False stops early.
    Noisy labels: ``filter=`` one of none, small_loss, coteaching, coteaching_plus, jocor,
    loss_history, confident_learning (with forget_rate, num_gradual, ... see default_options());
    ``clean_labels`` (when the noise was planted) adds label_precision and clean_recall of the
    kept samples to each epoch's record.

    >>> x, y = lookalike.data.fashion_mnist("test")
    >>> r = fit(x[:256], y[:256], epochs=1, batch_size=64, progress="off")
    >>> r.history[0]["epoch"]
    1.0
    """
    check_same_kind(images=images, labels=labels)
    x = _images(images)
    y = as_tensor(labels, "labels", torch.int64, dim=1)
    vx = vy = None
    if val is not None:
        if len(val) != 2:
            raise ValueError("val must be a pair (images, labels)")
        vx, vy = _images(val[0]), as_tensor(val[1], "val labels", torch.int64, dim=1)
    opts = make_options(**options)
    cb = (lambda rec: bool(on_epoch(dict(rec)) is not False)) if on_epoch else None
    clean = None
    if clean_labels is not None:
        check_same_kind(labels=labels, clean_labels=clean_labels)
        clean = as_tensor(clean_labels, "clean_labels", torch.int64, dim=1)
        if clean.shape != y.shape:
            raise ValueError(f"clean_labels has shape {tuple(clean.shape)}, labels {tuple(y.shape)}")
    core_model, history = _core.train.fit(x, y, vx, vy, opts, cb, clean)
    return TrainResult(Model(core_model), [dict(h) for h in history])


def embed(model: Model, images: Any, batch_size: int = 1024, device: str = "cpu") -> torch.Tensor:
    """float32 ``[N, D]`` L2-normalised embeddings of ``images`` under ``model``."""
    return model.embed(images, batch_size=batch_size, device=device)
