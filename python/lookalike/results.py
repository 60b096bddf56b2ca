"""Writing results: every file lands atomically (the core's temp-file + rename), JSON carries
the config, seed, versions and timings that produced it."""
from __future__ import annotations

import io
import json
import math
import platform
import sys
from typing import Any, Dict

from . import _core


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and getattr(x, "ndim", 1) == 0:
        return _clean(x.item())
    return x


def write_json(path: str, data: Dict[str, Any]) -> None:
    """JSON (NaN/Inf as null), written atomically."""
    text = json.dumps(_clean(data), indent=2, sort_keys=False, allow_nan=False) + "\n"
    _core.write_file_atomic(str(path), text.encode("utf-8"))


def save_figure(fig: Any, path: str, dpi: int = 120) -> None:
    """A matplotlib figure as PNG, written atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    _core.write_file_atomic(str(path), buf.getvalue())


def versions() -> Dict[str, Any]:
    import numpy
    import torch

    info = dict(_core.build_info())
    info.update(python=sys.version.split()[0], numpy=numpy.__version__, torch_python=torch.__version__,
                platform=platform.platform(), threads=_core.get_threads())
    try:
        import faiss  # noqa: F401  (the Python package, when present, for reference)

        info["faiss_python"] = faiss.__version__
    except Exception:  # pragma: no cover - faiss is optional on GPU hosts
        pass
    return info
