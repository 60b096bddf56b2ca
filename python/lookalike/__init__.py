"""lookalike: product visual search and duplicate-product detection research framework.

The C++ core (``lookalike._core``) does the computation; this package is its thin Python face.

Example:
    >>> import lookalike
    >>> images, labels = lookalike.data.fashion_mnist("test")
    >>> result = lookalike.train.fit(images[:512], labels[:512], epochs=1, progress="off")
    >>> emb = lookalike.embed(result.model, images[:256])
    >>> sorted(lookalike.eval.retrieval_metrics(emb, labels[:256]))[:2]
    ['map_at_r', 'num_excluded']
"""
import torch  # noqa: F401  (loads libtorch before the extension module)

from . import _core
from ._core import Error, FileError, InvalidArgument
from . import data, dedup, eval, index, noisy, results, train  # noqa: A004 (eval: named as in the brief)
from .train import Model, TrainResult, embed, fit

__version__ = _core.__version__


def set_threads(threads: int = 0) -> int:
    """Sets torch, OpenMP (FAISS) and OpenBLAS to one thread count (<= 0: all cores)."""
    return _core.set_threads(int(threads))


def build_info() -> dict:
    """What this build links: versions, FAISS, OpenCV, CUDA."""
    return dict(_core.build_info())


__all__ = [
    "Error", "FileError", "InvalidArgument", "Model", "TrainResult", "build_info", "data", "dedup",
    "embed", "eval", "fit", "index", "noisy", "set_threads", "train", "__version__",
]
