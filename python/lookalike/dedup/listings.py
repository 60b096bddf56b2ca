"""Listings: a catalogue of offers (titles, duplicate groups, attributes, images, hashes) read by
the C++ reader, the three shared sets, and simulated re-listings."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from .. import _core
from ..options import make

_d = _core.dedup


@dataclass
class Listings:
    """Offers of a catalogue. ``groups``: int64 [N] duplicate group per row (a row without one is
    a group of its own), None without ground truth. ``skipped``: rows left out, by reason;
    ``simulated``: the groups are simulated re-listings, not real duplicates."""

    ids: List[str]
    titles: List[str]
    texts: List[str]
    groups: Optional[torch.Tensor]
    attrs: Dict[str, List[str]] = field(default_factory=dict)
    images: Optional[torch.Tensor] = None
    phash: Optional[torch.Tensor] = None
    skipped: Dict[str, int] = field(default_factory=dict)
    repaired_utf8: int = 0
    source: str = ""
    simulated: bool = False

    def __len__(self) -> int:
        return len(self.ids)

    def summary(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"items": len(self), "source": self.source, "skipped": dict(self.skipped),
                               "repaired_utf8_cells": self.repaired_utf8, "simulated_groups": self.simulated,
                               "images": self.images is not None, "phash": self.phash is not None,
                               "attributes": list(self.attrs)}
        if self.groups is not None:
            out.update(_d.group_sizes(self.groups))
        return out


def _from_core(c: Any, groups: Optional[torch.Tensor], simulated: bool = False) -> Listings:
    return Listings(ids=list(c.ids), titles=list(c.titles), texts=list(c.texts), groups=groups,
                    attrs={n: list(v) for n, v in zip(c.attr_names, c.attrs)},
                    images=c.images if c.images is not None and c.images.numel() > 0 else None,
                    phash=c.phash if c.phash is not None and c.phash.numel() > 0 else None,
                    skipped=dict(c.skipped), repaired_utf8=int(c.repaired_utf8), source=c.source,
                    simulated=simulated)


def _read(path: Any, **options: Any) -> Any:
    """The C++ reader over ``ListingsOptions`` (None means "not given")."""
    values = {k: ("" if v is None else str(v) if isinstance(v, os.PathLike) else v) for k, v in options.items()}
    return _d.read_listings(make(_d.ListingsOptions, values, path=str(path), where="listings"))


def listings(path: str | os.PathLike, **options: Any) -> Listings:
    """Reads offers from a CSV or JSON Lines file (C++ reader).

    Rows with an empty title, or (with images) no or an unreadable image file, are skipped and
    counted in ``skipped``; invalid UTF-8 is replaced (U+FFFD) and counted. A missing column, a
    duplicate or empty id, a bad phash or a group column with a single group raise ValueError;
    a missing file raises OSError. ``image_pattern`` such as ``"{id}.jpg"`` names images by id.
    ``options``: ``ListingsOptions`` fields (``id_col``, ``title_col``, ``group_col``,
    ``text_cols``, ``image_col``, ``image_pattern``, ``image_root``, ``image_size``,
    ``phash_col``, ``attr_cols``, ``limit``, ``threads``) with the C++ defaults; None = not given.
    """
    c = _read(path, **options)
    groups = _d.group_labels(list(c.groups), len(c.ids)) if options.get("group_col") else None
    return _from_core(c, groups)


def data_dir(name: str, root: Optional[str | os.PathLike] = None) -> Path:
    """Folder of a shared data set: ``root`` when given, else the C++ search
    (``$LOOKALIKE_DATA/<name>``, else ``../shared/data/<name>`` upwards from the working
    directory and from this package)."""
    found = str(root) if root else _core.data.shared_data_dir(name, [str(Path(__file__).resolve().parent)])
    p = Path(found) if found else None
    if p is None or not p.is_dir():
        raise OSError(f"data set '{name}' not found (looked at {p or '../shared/data/' + name}); pass root= "
                      f"or set LOOKALIKE_DATA to the folder holding {name}/")
    return p


def load_set(name: str, root: Optional[str | os.PathLike] = None, *, limit: int = 0, image_size: int = 64,
             relist: Optional[Dict[str, Any]] = None, seed: int = 0, threads: int = 0) -> Listings:
    """One of the real sets, ready for the study.

    * ``amazon_google``: tableA (Amazon) + tableB (Google) as one catalogue, ids ``a<id>`` and
      ``b<id>``, title + manufacturer as text, price and the shop as attributes; groups = connected
      components of gold.csv's matching pairs (union-find).
    * ``shopee_dev``: titles, 64-bit image phash, ``label_group``.
    * ``fashion_products``: photos + titles of styles.csv; it has no duplicate groups, so
      ``relist`` (originals, min_copies, max_copies, title, photo) makes re-listings of real items
      (re-shot photo, re-typed title): groups are **simulated** (``simulated=True``).
    ``limit``: the first rows only (per table for amazon_google), for small runs.
    """
    if name == "amazon_google":
        d = data_dir("amazon-google", root)
        parts = [_read(d / f"table{t}.csv", text_cols=["manufacturer"], attr_cols=["price"], id_prefix=t.lower(),
                       limit=int(limit)) for t in ("A", "B")]
        c = _d.concat_listings(parts)
        groups, missing = _d.groups_from_pair_file(c, str(d / "gold.csv"), "tableA_id", "tableB_id", "a", "b")
        out = _from_core(c, groups)
        if missing:
            out.skipped["gold pairs with a row not loaded"] = missing
        # The shop of each offer (the id prefix): duplicates here are always across the two shops.
        out.attrs["shop"] = ["amazon"] * len(parts[0].ids) + ["google"] * len(parts[1].ids)
        return out
    if name == "shopee_dev":
        d = data_dir("shopee-dev", root)
        return listings(d / "dev.csv", id_col="posting_id", title_col="title", group_col="label_group",
                        phash_col="image_phash", limit=limit)
    if name == "fashion_products":
        d = data_dir("fashion-products", root)
        c = _read(d / "styles.csv", title_col="productDisplayName", image_pattern="{id}.jpg",
                  image_root=d / "images", image_size=int(image_size),
                  attr_cols=["articleType", "baseColour", "gender", "usage"], limit=int(limit), threads=int(threads))
        return _relisted(c, dict(relist or {}), seed)
    raise ValueError(f"unknown data set '{name}'; known: amazon_google, shopee_dev, fashion_products "
                     "(or use listings(path, ...) for your own file)")


def _relisted(core_listings: Any, relist: Dict[str, Any], seed: int) -> Listings:
    c, groups = _d.with_relistings(core_listings, make(_d.RelistOptions, relist, seed=int(seed), where="relist"))
    return _from_core(c, groups, simulated=True)


def simulate_relistings(base: Listings, *, seed: int = 0, **relist: Any) -> Listings:
    """``base`` plus re-listings of ``originals`` random items (all when 0), ``min_copies`` to
    ``max_copies`` each, with a re-typed title (``title``: noise options) and, when ``base`` has
    images, a re-shot photo (``photo``) (C++). Groups: an original and its copies; every other
    item is a group of its own. Marked ``simulated``."""
    if "title_noise" in relist:  # the earlier keyword
        relist["title"] = relist.pop("title_noise") or {}
    return _relisted(to_core(base), relist, seed)


def to_core(items: Listings) -> Any:
    """The C++ listings (``_core.dedup.Listings``) of ``items``; groups travel separately."""
    c = _d.Listings()
    c.ids, c.titles, c.texts, c.source = list(items.ids), list(items.titles), list(items.texts), items.source
    c.attr_names, c.attrs = list(items.attrs), [list(v) for v in items.attrs.values()]
    c.skipped, c.repaired_utf8 = dict(items.skipped), items.repaired_utf8
    if items.images is not None:
        c.images = items.images
    if items.phash is not None:
        c.phash = items.phash
    return c


def perturb_title(title: str, seed: int = 0, **noise: float) -> str:
    """A seller's re-typed ``title`` (word drop, swap, abbreviation, typo, boilerplate, case)."""
    return _d.perturb_title(title, int(seed), make(_d.TitleNoise, noise))


def perturb_image(image: torch.Tensor, seed: int = 0, **noise: float) -> torch.Tensor:
    """A re-shot photo of ``image`` (uint8 [3, S, S]): crop and rescale (``min_crop``), mirror
    (``flip``), background tint (``background``), hue / saturation / value shifts, JPEG
    re-compression (``min_quality``..``max_quality``)."""
    return _d.perturb_image(image, int(seed), make(_d.PhotoNoise, noise))
