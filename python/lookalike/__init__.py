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
from . import data, dedup, eval, index, local, noisy, results, tags, train  # noqa: A004 (eval: named as in the brief)
from .train import Model, TrainResult, embed, fit

__version__ = _core.__version__


def set_threads(threads: int = 0) -> int:
    """Sets torch, OpenMP (FAISS) and OpenBLAS to one thread count (<= 0: all cores)."""
    return _core.set_threads(int(threads))


def set_cpu_cache(on: bool) -> bool:
    """Turns the caching CPU allocator of lookalike's training and inference loops on or off
    (on by default; see ``util/cpu_cache.h``): inside them, large blocks freed by one step are
    reused by the next instead of being unmapped and faulted in again. Other code in the process
    is never affected. Returns the previous setting."""
    return bool(_core.set_cpu_cache(bool(on)))


def cpu_cache_stats() -> dict:
    """The caching CPU allocator's counters: hits, misses (since the process started) and the
    bytes it holds free now (0 outside lookalike's loops)."""
    return dict(_core.cpu_cache_stats())


def build_info() -> dict:
    """What this build links: versions, FAISS, OpenCV, CUDA."""
    return dict(_core.build_info())


__all__ = [
    "Error", "FileError", "InvalidArgument", "Model", "TrainResult", "build_info", "cpu_cache_stats",
    "data", "dedup", "embed", "eval", "fit", "index", "local", "noisy", "set_cpu_cache", "set_threads", "train",
    "__version__",
]
