"""The one place where arrays cross into the core: NumPy arrays become tensors (no copy when
the dtype already fits), everything is checked for type and shape before C++ sees it."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch


def as_tensor(x: Any, name: str, dtype: Optional[torch.dtype] = None, dim: Optional[int] = None) -> torch.Tensor:
    """Returns ``x`` as a torch tensor, converting a NumPy array once (zero-copy when possible).

    Raises ValueError naming ``name`` for other types, a wrong dtype or a wrong number of dims.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(x).__name__}")
    if dtype is not None and x.dtype != dtype:
        int_kinds = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)
        if dtype == torch.int64 and x.dtype in int_kinds:
            x = x.to(torch.int64)
        elif dtype == torch.float32 and x.dtype in (torch.float16, torch.float64, torch.bfloat16):
            x = x.to(torch.float32)
        else:
            raise ValueError(f"{name}: expected dtype {dtype}, got {x.dtype}")
    if dim is not None and x.dim() != dim:
        raise ValueError(f"{name}: expected a {dim}-d tensor, got shape {tuple(x.shape)}")
    return x if x.is_contiguous() else x.contiguous()


def check_same_kind(**arrays: Any) -> None:
    """A call takes torch tensors or NumPy arrays, never a mix."""
    kinds = {type(a).__module__.split(".")[0] for a in arrays.values() if a is not None}
    if len(kinds) > 1:
        names = ", ".join(f"{k}={type(v).__name__}" for k, v in arrays.items() if v is not None)
        raise ValueError(f"pass either torch tensors or NumPy arrays, not a mix ({names})")
