"""Datasets: Fashion-MNIST (Debian's dataset-fashion-mnist), product catalogues, splits."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import torch

from . import _core
from .options import make
from ._tensors import as_tensor


def fashion_mnist(split: str = "train", root: Optional[str] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST images uint8 ``[N, 1, 28, 28]`` and labels int64 ``[N]``.

    ``root`` defaults to ``$LOOKALIKE_FASHION_MNIST`` or ``/usr/share/datasets/fashion-mnist``.

    >>> x, y = fashion_mnist("test")
    >>> tuple(x.shape), y.dtype
    ((10000, 1, 28, 28), torch.int64)
    """
    return _core.data.fashion_mnist(split, root or "")


FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot"]


def read_idx(path: str) -> torch.Tensor:
    """An IDX file (plain or gzip) as a uint8 tensor shaped by its header."""
    return _core.data.read_idx(str(path))


@dataclass
class Catalog:
    """A product catalogue: ``images`` uint8 ``[N, 3, S, S]``, ``table`` (pandas DataFrame with
    one row per image and the CSV's other columns, empty cells as ""), ``ids``; ``skipped``:
    rows left out by reason ("no image file", and "unreadable image" with bad_image="skip")."""

    images: torch.Tensor
    table: "pandas.DataFrame"  # noqa: F821
    ids: List[str] = field(default_factory=list)
    root: str = ""
    skipped: Dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def labels(self, column: str, top: Optional[int] = None) -> Tuple[torch.Tensor, List[str]]:
        """Integer labels of ``column`` (codes in order of frequency, ties by first appearance;
        an empty cell gets -1) and the class names, from the C++ label encoder.

        With ``top``, only the ``top`` most frequent values get a code; the rest get -1.
        """
        if column not in self.table.columns:
            raise ValueError(f"catalog has no column {column!r} (columns: {list(self.table.columns)})")
        o = make(_core.data.LabelOptions, order="frequency", top=int(top or 0), empty="missing",
                 where="Catalog.labels")
        codes, names = _core.data.encode_labels([str(v) for v in self.table[column]], o)
        return codes, list(names)


def product_catalog(root: Optional[str] = None, **options: Any) -> Catalog:
    """Reads a catalogue (CSV + ``<image_dir>/<id>.jpg``); rows without an image are dropped.

    ``root`` defaults to ``$LOOKALIKE_DATA/fashion-products`` or ``../shared/data/fashion-products``;
    ``options``: the other ``CatalogOptions`` fields (``image_size``, ``limit``, ``csv_name``,
    ``image_dir``, ``id_column``, ``required_columns``, ``threads``) with the C++ defaults.

    >>> cat = product_catalog(limit=8, image_size=32)
    >>> tuple(cat.images.shape), "articleType" in cat.table.columns
    ((8, 3, 32, 32), True)
    """
    import pandas as pd

    opts = make(_core.data.CatalogOptions, options, root=str(root or ""), where="product_catalog")
    cat = _core.data.read_catalog(opts)
    table = pd.DataFrame({name: col for name, col in zip(cat.names, cat.columns)})
    return Catalog(images=cat.images, table=table, ids=list(cat.ids),
                   root=opts.root or _core.data.default_catalog_root(), skipped=dict(cat.skipped))


@dataclass
class ImageSet:
    """A labelled image set: ``images`` uint8 ``[N, 3, S, S]``, ``labels`` int64 ``[N]`` (index
    into ``class_names``), ``paths``, ``skipped`` (rows left out by reason)."""

    images: torch.Tensor
    labels: torch.Tensor
    class_names: List[str]
    paths: List[str]
    skipped: Dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> "ImageSet":
        """The items at ``index`` (int64), class names unchanged."""
        index = as_tensor(index, "index", torch.int64, dim=1)
        return ImageSet(self.images[index], self.labels[index], self.class_names,
                        [self.paths[i] for i in index.tolist()], dict(self.skipped))


def image_sets() -> List[str]:
    """The image sets ``image_set`` reads (from C++)."""
    return list(_core.data.image_sets())


def image_set(set: str = "grocery", **options: Any) -> ImageSet:
    """A labelled image set through the one C++ reader (``data/image_set.h``): ``grocery``
    (``split`` train/val/test/iconic, ``class_level`` fine/coarse), ``fashion_products``
    (``class_columns``, default articleType and baseColour), ``folder`` (``root``: one folder per
    class) or ``csv`` (``root``: the CSV file; ``path_column``, ``class_columns``,
    ``image_root``); for every set ``image_size``, ``max_per_class``, ``min_class_size``,
    ``threads``, ``bad_image``. An option the set does not read is an error.

    >>> s = image_set("grocery", split="iconic", image_size=32)
    >>> tuple(s.images.shape), s.class_names[int(s.labels[0])]
    ((81, 3, 32, 32), 'Golden-Delicious')
    """
    options = {k: "" if v is None and k in ("root", "image_root") else v for k, v in options.items()}
    opts = make(_core.data.ImageSetOptions, options, set=set, where="image_set")
    r = _core.data.read_image_set(opts)
    return ImageSet(r.images, r.labels, list(r.class_names), list(r.paths), dict(r.skipped))


@dataclass
class TagSet:
    """A multi-label image set: ``images`` uint8 ``[N, 3, S, S]``, ``sizes`` int64 ``[N, 2]``
    (width, height as stored), ``targets`` float ``[N, T]`` (0/1), ``tags`` (the vocabulary, sorted),
    ``counts`` int64 ``[T]``, ``paths``, ``names`` (the path column's values) and, where a boxes file
    exists, one row per (photo, tag) box: ``box_image``, ``box_tag`` int64 ``[M]``, ``boxes`` int64
    ``[M, 4]`` (x0, y0, x1, y1; x1/y1 exclusive, pixels of the stored photo). ``skipped``: what was
    left out by reason; ``untagged``: photos kept without a tag; ``mined`` bool ``[T]``: tags mined
    from titles (missing positives); ``titles``: the title column's cells when the set has one."""

    images: torch.Tensor
    sizes: torch.Tensor
    targets: torch.Tensor
    tags: List[str]
    counts: torch.Tensor
    paths: List[str]
    names: List[str]
    box_image: Optional[torch.Tensor] = None
    box_tag: Optional[torch.Tensor] = None
    boxes: Optional[torch.Tensor] = None
    skipped: Dict[str, int] = field(default_factory=dict)
    untagged: int = 0
    mined: Optional[torch.Tensor] = None
    titles: List[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.targets.shape[0])


def tag_sets() -> List[str]:
    """The tagged image sets ``tag_set`` reads (from C++)."""
    return list(_core.data.tag_sets())


def tag_set(set: str = "clothing_co_parsing", **options: Any) -> TagSet:
    """A multi-label image set through the C++ reader (``data/tag_set.h``): ``clothing_co_parsing``
    (../shared/data/clothing-co-parsing: tags.csv, photos/, boxes.csv), ``fashion_products``
    (../shared/data/fashion-products: attribute columns as ``column:value`` tags, ``tag_columns``;
    words mined from titles, ``title_words``, as ``pattern:word``) or ``csv`` (``root``: the CSV
    file; ``path_column``, ``tags_column``, ``separator``, ``tag_columns``, ``indicator_columns``,
    ``title_column``, ``image_root``, ``boxes``); for all ``min_count``, ``exclude``, ``vocabulary``
    (fixed; ``unknown_tag`` error | skip), ``untagged`` (keep | skip), ``image_size``, ``threads``,
    ``bad_image``. An option the set does not read is an error.

    >>> s = tag_set(image_size=32, min_count=400, exclude=["skin", "hair"])
    >>> s.tags, tuple(s.targets.shape)
    (['bag', 'coat', 'dress', 'pants', 'shoes', 'skirt', 'sunglasses'], (2098, 7))
    """
    options = {k: "" if v is None and k in ("root", "image_root", "boxes", "title_column") else v
               for k, v in options.items()}
    opts = make(_core.data.TagSetOptions, options, set=set, where="tag_set")
    r = _core.data.read_tag_set(opts)
    return TagSet(r.images, r.sizes, r.targets, list(r.tags), r.counts, list(r.paths), list(r.names),
                  r.box_image, r.box_tag, r.boxes, dict(r.skipped), int(r.untagged), r.mined, list(r.titles))


def class_split(labels: Any, fraction: float, seed: int = 0) -> Dict[str, torch.Tensor]:
    """The classes split at random (``data::class_split``): ``round(k * fraction)`` of the k classes
    first. Returns ``first``/``second`` (item indices), ``first_labels``/``second_labels``
    (renumbered from 0) and ``first_classes``/``second_classes`` (the original label of each)."""
    labels = as_tensor(labels, "labels", torch.int64, dim=1)
    keys = ("first", "second", "first_labels", "second_labels", "first_classes", "second_classes")
    return dict(zip(keys, _core.data.class_split(labels, float(fraction), int(seed))))


def select_classes(labels: Any, classes: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    """(indices, renumbered labels) of the items whose label is in ``classes`` (int64, distinct):
    a class split made on one set applied to another (``data::select_classes``)."""
    return _core.data.select_classes(as_tensor(labels, "labels", torch.int64, dim=1),
                                     as_tensor(classes, "classes", torch.int64, dim=1))


def random_split(n: int, fraction: float, seed: int = 0,
                 labels: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Seeded split of ``range(n)`` into ``round(n * fraction)`` indices and the rest (both
    sorted int64). With ``labels`` the split is stratified by class."""
    if labels is not None:
        labels = as_tensor(labels, "labels", torch.int64, dim=1)
    return _core.data.random_split(int(n), float(fraction), int(seed), labels)


def read_image(path: str, size: int) -> torch.Tensor:
    """One image decoded (OpenCV) to RGB uint8 ``[3, size, size]``."""
    return _core.data.read_image(str(path), int(size))


def decode_images(paths: List[str], size: int, threads: int = 0,
                  bad_image: str = "error") -> Tuple[torch.Tensor, List[int]]:
    """Images decoded in parallel (OpenCV) to RGB uint8 ``[K, 3, size, size]`` and the indices of
    the K decoded ones: an unreadable file is an error (``bad_image="error"``) or left out
    (``"skip"``)."""
    images, kept = _core.data.decode_images([str(p) for p in paths], int(size), int(threads), bad_image)
    return images, list(kept)


def listings(path: str, **options: Any):
    """Product listings (offers) from CSV / JSON Lines for the duplicate study: see
    ``lookalike.dedup.listings`` for the options (id_col, title_col, group_col, text_cols,
    image_col, image_root, phash_col, attr_cols, ...)."""
    from .dedup import listings as read

    return read(path, **options)
