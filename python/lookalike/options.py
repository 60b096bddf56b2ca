"""Options cross into C++ one way: a C++ option struct (declared once, with ``LOOKALIKE_OPTIONS``)
built from keyword arguments or a config section by this one helper. The struct itself checks
the names and types (an unknown key or a wrong type is a ValueError naming it and the known
ones), so no Python file keeps a list of option names or defaults.

>>> from lookalike import _core
>>> o = make(_core.dedup.Bm25Options, k1=1.5)
>>> o.k1, o.b
(1.5, 0.75)
>>> defaults(_core.dedup.Bm25Options)
{'k1': 1.2, 'b': 0.75, 'language': 'english'}
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional


def make(cls: Any, values: Optional[Mapping[str, Any]] = None, *, where: str = "", **kwargs: Any) -> Any:
    """An instance of the C++ option struct ``cls`` with ``values`` and ``kwargs`` set (nested
    option structs as dicts); ``where`` prefixes the names in error messages."""
    o = cls()
    merged = dict(values or {})
    merged.update(kwargs)
    o.update(merged, where)
    return o


def defaults(cls: Any, *, flat: bool = False) -> Dict[str, Any]:
    """Every option of ``cls`` with its C++ default (``flat``: nested structs' fields lifted)."""
    o = cls()
    return dict(o.to_flat_dict() if flat else o.to_dict())


def names(cls: Any) -> list:
    """The option names of ``cls``, in declaration order."""
    return list(cls.fields())
