"""Duplicate-product detection: listings, candidate pipelines, the matcher.

* ``listings(path, ...)`` reads a CSV / JSON Lines file of offers; ``load_set(name)`` reads the
  three real sets (``amazon_google``, ``shopee_dev``, ``fashion_products`` with simulated
  re-listings).
* Pipelines propose n candidates for every listing (the listing itself excluded): ``bm25``
  (Xapian), ``text`` (C++ title encoder + vector index), ``image`` (CNN embeddings + vector
  index), ``phash`` (Hamming distance through a FAISS binary index).
* ``Matcher``: logistic regression over pair features, judging candidates.

>>> idx = Bm25Index(["red cotton shirt", "blue cotton shirt", "red wine glass"])
>>> ids, scores = idx.search(["red shirt"], n=2)
>>> ids[0].tolist()
[0, 1]
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from . import _core
from .options import make

__all__ = ["Bm25Index", "Listings", "listings", "load_set", "data_dir", "split_groups", "TextEncoder",
           "PIPELINES", "make_pipeline", "Matcher", "pair_features", "compare_pipelines", "cluster_scores",
           "tokenize", "perturb_title", "perturb_image"]

_d = _core.dedup
tokenize = _d.tokenize
true_pairs = _d.true_pairs
same_group = _d.same_group
drop_self = _d.drop_self
best_f1_threshold = _d.best_f1_threshold


class Bm25Index:
    """BM25 over ``documents``; row i is document i. ``options``: those of C++ ``Bm25Options``
    (``k1``, ``b``, ``language``: Snowball stemmer, ``"none"`` for none)."""

    def __init__(self, documents: Sequence[str], **options: Any):
        docs = _texts(documents, "documents")
        self._index = _d.Bm25Index(docs, make(_d.Bm25Options, options, where="bm25"))

    def __len__(self) -> int:
        return self._index.size

    def search(self, queries: Sequence[str], n: int, *, exclude_self: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """(ids int64 [nq, n], scores float32 [nq, n]), best first; id -1 where fewer matched.
        ``exclude_self``: query i is document i and is never its own candidate."""
        return self._index.search(_texts(queries, "queries"), int(n), bool(exclude_self))


def _texts(values: Sequence[str], name: str) -> list:
    out = list(values)
    bad = next((i for i, v in enumerate(out) if not isinstance(v, str)), None)
    if bad is not None:
        raise ValueError(f"{name}[{bad}] is {type(out[bad]).__name__}, expected str")
    return out


# ---------------------------------------------------------------------------------------- data

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
            sizes = torch.bincount(self.groups)
            sizes = sizes[sizes > 0]
            out.update(groups=int(sizes.numel()), groups_with_duplicates=int((sizes > 1).sum()),
                       items_with_duplicates=int(sizes[sizes > 1].sum()), largest_group=int(sizes.max()))
        return out


def _from_core(c: Any, groups: Optional[torch.Tensor]) -> Listings:
    return Listings(ids=list(c.ids), titles=list(c.titles), texts=list(c.texts), groups=groups,
                    attrs={n: list(v) for n, v in zip(c.attr_names, c.attrs)},
                    images=c.images if c.images is not None and c.images.numel() > 0 else None,
                    phash=c.phash if c.phash is not None and c.phash.numel() > 0 else None,
                    skipped=dict(c.skipped), repaired_utf8=int(c.repaired_utf8), source=c.source)


def _read(path, *, id_col="id", title_col="title", group_col=None, text_cols=(), image_col=None,
          image_pattern=None, image_root=None, image_size=64, phash_col=None, attr_cols=(), id_prefix="",
          limit=0, threads=0):
    return _d.read_listings(make(_d.ListingsOptions, where="listings", **dict(
        path=str(path), id_col=id_col, title_col=title_col, group_col=group_col or "", text_cols=list(text_cols),
        image_col=image_col or "", image_pattern=image_pattern or "", image_root=str(image_root or ""),
        image_size=int(image_size), phash_col=phash_col or "", attr_cols=list(attr_cols), id_prefix=id_prefix,
        limit=int(limit), threads=int(threads))))


def listings(path: str | os.PathLike, *, id_col: str = "id", title_col: str = "title",
             group_col: Optional[str] = None, text_cols: Sequence[str] = (), image_col: Optional[str] = None,
             image_pattern: Optional[str] = None, image_root: Optional[str] = None, image_size: int = 64,
             phash_col: Optional[str] = None, attr_cols: Sequence[str] = (), limit: int = 0,
             threads: int = 0) -> Listings:
    """Reads offers from a CSV or JSON Lines file (C++ reader).

    Rows with an empty title, or (with images) no or an unreadable image file, are skipped and
    counted in ``skipped``; invalid UTF-8 is replaced (U+FFFD) and counted. A missing column, a
    duplicate or empty id, a bad phash or a group column with a single group raise ValueError;
    a missing file raises OSError. ``image_pattern`` such as ``"{id}.jpg"`` names images by id.
    """
    c = _read(path, id_col=id_col, title_col=title_col, group_col=group_col, text_cols=text_cols,
              image_col=image_col, image_pattern=image_pattern, image_root=image_root, image_size=image_size,
              phash_col=phash_col, attr_cols=attr_cols, limit=limit, threads=threads)
    groups = _d.group_labels(list(c.groups), len(c.ids)) if group_col else None
    return _from_core(c, groups)


def data_dir(name: str, root: Optional[str | os.PathLike] = None) -> Path:
    """Folder of a shared data set: ``root`` when given, else ``$LOOKALIKE_DATA/<name>``, else
    ``../shared/data/<name>`` searched upwards from the working directory and this package."""
    if root:
        p = Path(root)
    else:
        env = os.environ.get("LOOKALIKE_DATA")
        p = Path(env) / name if env else None
        if p is None:
            for start in (Path.cwd(), Path(__file__).resolve().parent):
                for d in (start, *start.parents):
                    cand = d / "shared" / "data" / name
                    if cand.is_dir():
                        p = cand
                        break
                if p is not None:
                    break
    if p is None or not p.is_dir():
        raise OSError(f"data set '{name}' not found (looked at {p or '../shared/data/' + name}); pass root= "
                      f"or set LOOKALIKE_DATA to the folder holding {name}/")
    return p


def load_set(name: str, root: Optional[str | os.PathLike] = None, *, limit: int = 0, image_size: int = 64,
             relist: Optional[Dict[str, Any]] = None, seed: int = 0, threads: int = 0) -> Listings:
    """One of the real sets, ready for the study.

    * ``amazon_google``: tableA (Amazon) + tableB (Google) as one catalogue, ids ``a<id>`` and
      ``b<id>``, title + manufacturer as text, price as a numeric attribute; groups = connected
      components of gold.csv's matching pairs (union-find).
    * ``shopee_dev``: titles, 64-bit image phash, ``label_group``.
    * ``fashion_products``: photos + titles of styles.csv; it has no duplicate groups, so
      ``relist`` (originals, min_copies, max_copies, title_noise) makes re-listings of real items
      (re-shot photo, re-typed title): groups are **simulated** (``simulated=True``).
    ``limit``: the first rows only (per table for amazon_google), for small runs.
    """
    if name == "amazon_google":
        d = data_dir("amazon-google", root)
        parts = [_read(d / f"table{t}.csv", text_cols=("manufacturer",), attr_cols=("price",), id_prefix=t.lower(),
                       limit=limit) for t in ("A", "B")]
        c = _d.concat_listings(parts)
        row = {i: r for r, i in enumerate(c.ids)}
        import csv

        pairs, missing = [], 0
        with open(d / "gold.csv", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                a, b = row.get("a" + r["tableA_id"].strip()), row.get("b" + r["tableB_id"].strip())
                if a is None or b is None:
                    missing += 1
                else:
                    pairs.append((a, b))
        groups = _d.groups_from_pairs(len(c.ids), torch.tensor(pairs, dtype=torch.int64).view(-1, 2))
        out = _from_core(c, groups)
        if missing:
            out.skipped["gold pairs with a row not loaded"] = missing
        # The shop of each offer: duplicates here are always across the two shops.
        out.attrs = {"price": out.attrs["price"], "shop": ["amazon" if i[0] == "a" else "google" for i in out.ids]}
        return out
    if name == "shopee_dev":
        d = data_dir("shopee-dev", root)
        return listings(d / "dev.csv", id_col="posting_id", title_col="title", group_col="label_group",
                        phash_col="image_phash", limit=limit)
    if name == "fashion_products":
        d = data_dir("fashion-products", root)
        attrs = ("articleType", "baseColour", "gender", "usage")
        c = _read(d / "styles.csv", title_col="productDisplayName", image_pattern="{id}.jpg",
                  image_root=d / "images", image_size=image_size, attr_cols=attrs, limit=limit, threads=threads)
        base = _from_core(c, None)
        return simulate_relistings(base, seed=seed, **(relist or {}))
    raise ValueError(f"unknown data set '{name}'; known: amazon_google, shopee_dev, fashion_products "
                     "(or use listings(path, ...) for your own file)")


def simulate_relistings(base: Listings, *, originals: int = 0, min_copies: int = 1, max_copies: int = 3,
                        title_noise: Optional[Dict[str, float]] = None, seed: int = 0) -> Listings:
    """``base`` plus re-listings of ``originals`` random items (all when 0): each copy has a
    re-typed title and, when ``base`` has images, a re-shot photo (C++). Groups: an original and
    its copies; every other item is a group of its own. Marked ``simulated``."""
    n = len(base)
    if originals and originals > n:
        raise ValueError(f"relist.originals = {originals} but the catalogue has {n} items")
    options = make(_d.RelistOptions, originals=int(originals), min_copies=int(min_copies),
                   max_copies=int(max_copies), seed=int(seed), title=dict(title_noise or {}), where="relist")
    src, titles, images = _d.simulate_relistings(base.titles, base.images, options)
    src_t = torch.tensor(src, dtype=torch.int64)
    counts: Dict[int, int] = {}
    ids = []
    for s in src:
        counts[s] = counts.get(s, 0) + 1
        ids.append(f"{base.ids[s]}~relist{counts[s]}")
    groups = torch.cat([torch.arange(n), src_t])
    out = Listings(ids=base.ids + ids, titles=base.titles + list(titles), texts=base.texts + list(titles),
                   groups=groups, attrs={k: v + [v[s] for s in src] for k, v in base.attrs.items()},
                   images=torch.cat([base.images, images]) if base.images is not None else None,
                   phash=None, skipped=dict(base.skipped), repaired_utf8=base.repaired_utf8,
                   source=base.source + f" + {len(src)} simulated re-listings", simulated=True)
    return out


def split_groups(groups: torch.Tensor, test_fraction: float, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(train rows, test rows), int64, split by group: a group is wholly on one side."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    uniq, inverse = torch.unique(groups, return_inverse=True)
    test_groups, _ = _core.data.random_split(int(uniq.numel()), float(test_fraction), int(seed), None)
    is_test = torch.zeros(int(uniq.numel()), dtype=torch.bool)
    is_test[test_groups] = True
    rows = torch.arange(len(groups))
    return rows[~is_test[inverse]], rows[is_test[inverse]]


def perturb_title(title: str, seed: int = 0, **noise: float) -> str:
    """A seller's re-typed ``title`` (word drop, swap, abbreviation, typo, boilerplate, case)."""
    return _d.perturb_title(title, int(seed), make(_d.TitleNoise, noise))


def perturb_image(image: torch.Tensor, seed: int = 0, **noise: float) -> torch.Tensor:
    """A re-shot photo of ``image`` (uint8 [3, S, S]): crop and rescale (``min_crop``), mirror
    (``flip``), background tint (``background``), hue / saturation / value shifts, JPEG
    re-compression (``min_quality``..``max_quality``)."""
    return _d.perturb_image(image, int(seed), make(_d.PhotoNoise, noise))


# ------------------------------------------------------------------------------------ encoders

class TextEncoder:
    """Title encoder: hashed words + character n-grams -> IDF-weighted embedding bag ->
    projection, trained in C++ with an in-batch contrastive loss (positives: other offers of
    the same training group, or a perturbed copy of the title). ``options``: C++
    ``TextEncoderOptions`` in the flat form (``dim``, ``epochs``, ..., the hash's ``buckets``,
    ``min_n``, ``max_n``, ``words``; ``noise`` as a dict); see ``TextEncoder.defaults()``."""

    def __init__(self, *, _core_encoder: Any = None, **options: Any):
        if _core_encoder is None:
            o = _d.TextEncoderOptions()
            o.update_flat(options, "text")
            _core_encoder = _d.TextEncoder(o)
        self._enc = _core_encoder
        self.history: List[Dict[str, float]] = []

    @staticmethod
    def defaults() -> Dict[str, Any]:
        """Every option with its C++ default (flat form)."""
        return dict(_d.TextEncoderOptions().to_flat_dict())

    def fit(self, texts: Sequence[str], groups: torch.Tensor, train_rows: torch.Tensor) -> "TextEncoder":
        self.history = [dict(h) for h in self._enc.fit(_texts(texts, "texts"), groups, train_rows)]
        return self

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        return self._enc.encode(_texts(texts, "texts"))

    def save(self, path: str | os.PathLike) -> None:
        self._enc.save(str(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TextEncoder":
        return cls(_core_encoder=_d.TextEncoder.load(str(path)))


# ----------------------------------------------------------------------------------- pipelines

class Pipeline:
    """A candidate generator: ``fit(listings, train_rows)`` then ``candidates(n)`` -> (ids int64
    [N, n], scores float32 [N, n], higher = more alike) for every row, the row itself excluded.
    ``embeddings`` (float32 [N, d]) when the pipeline has them (matcher features, clustering)."""

    name = "?"
    embeddings: Optional[torch.Tensor] = None
    known: Optional[Tuple[str, ...]] = None  # option names (None: checked by what they feed)

    def __init__(self, **options: Any):
        if self.known is not None:
            bad = sorted(set(options) - set(self.known))
            if bad:
                raise ValueError(f"pipeline '{self.name}': unknown option(s) {bad}; known: {sorted(self.known)}")
        self.options = options
        self.info: Dict[str, Any] = {}

    def fit(self, items: Listings, train_rows: torch.Tensor) -> "Pipeline":
        self.items = items
        return self

    def candidates(self, n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class Bm25Pipeline(Pipeline):
    name = "bm25"
    known = tuple(_d.Bm25Options.fields())

    def candidates(self, n):
        idx = Bm25Index(self.items.texts, **self.options)
        return idx.search(self.items.texts, n, exclude_self=True)


class _VectorPipeline(Pipeline):
    def candidates(self, n):
        from .index import Index

        x = self.embeddings
        index = Index(x.shape[1], spec=self.options.get("index", "Flat"), metric="ip")
        if not index.is_trained:
            index.train(x)
        index.add(x, torch.arange(x.shape[0]))
        scores, ids = index.search(x, min(len(x), n + 1), **self.options.get("search", {}))
        return drop_self(ids, scores, n)


class TextPipeline(_VectorPipeline):
    name = "text"
    known = tuple(_d.TextEncoderOptions().to_flat_dict()) + ("index", "search")

    def fit(self, items, train_rows):
        super().fit(items, train_rows)
        o = {k: v for k, v in self.options.items() if k not in ("index", "search")}
        enc = TextEncoder(**o)
        groups = items.groups if items.groups is not None else torch.arange(len(items))
        enc.fit(items.texts, groups, train_rows)
        self.encoder = enc
        self.info["history"] = enc.history
        self.embeddings = enc.encode(items.texts)
        return self


class ImagePipeline(_VectorPipeline):
    name = "image"

    def fit(self, items, train_rows):
        from . import train

        super().fit(items, train_rows)
        if items.images is None:
            raise ValueError("pipeline 'image' needs listings with images")
        o = dict(self.options)
        label = o.pop("label", "group")
        o.pop("index", None), o.pop("search", None)
        if label == "group":
            values = items.groups[train_rows]
        elif label in items.attrs:
            col = items.attrs[label]
            values = _core.dedup.group_labels([col[i] for i in train_rows.tolist()], len(train_rows))
        else:
            raise ValueError(f"image.label '{label}': expected 'group' or an attribute column {list(items.attrs)}")
        _, y = torch.unique(values, return_inverse=True)
        r = train.fit(items.images[train_rows], y, **o)
        self.info.update(history=r.history, classes=int(y.max()) + 1, label=label)
        self.model = r.model
        self.embeddings = r.model.embed(items.images, device=o.get("device", "cpu"))
        return self


class PhashPipeline(Pipeline):
    name = "phash"
    known = ()

    def candidates(self, n):
        if self.items.phash is None:
            raise ValueError("pipeline 'phash' needs listings with a phash column")
        ids, bits = _d.hamming_candidates(self.items.phash, int(n))
        return ids, 1.0 - bits / 64.0  # similarity: higher is nearer, like the other pipelines


PIPELINES = {"bm25": Bm25Pipeline, "text": TextPipeline, "image": ImagePipeline, "phash": PhashPipeline}


def make_pipeline(name: str, **options: Any) -> Pipeline:
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline '{name}'; known: {sorted(PIPELINES)}")
    return PIPELINES[name](**options)


# ------------------------------------------------------------------------------------- matcher

def pair_features(pairs: torch.Tensor, items: Listings, *, embeddings: Dict[str, torch.Tensor],
                  candidate_scores: Optional[Dict[str, Tuple[torch.Tensor, torch.Tensor]]] = None,
                  numeric_attrs: Sequence[str] = ("price",)) -> Tuple[torch.Tensor, List[str]]:
    """Features float64 [m, f] of pairs (int64 [m, 2] of rows) and their names: cosine per
    embedding, phash similarity, title Jaccard and length ratio, attribute agreement / numeric
    ratio (C++), plus each pipeline's candidate score where the pair is in its list (else 0)."""
    names = list(embeddings)
    x, feat_names = _d.pair_features(pairs, names, [embeddings[k] for k in names], items.phash, items.titles,
                                     list(items.attrs), [items.attrs[k] for k in items.attrs],
                                     [k in numeric_attrs for k in items.attrs])
    cols, feat_names = [x], list(feat_names)
    for name, (ids, scores) in (candidate_scores or {}).items():
        cols.append(_d.lookup_scores(pairs, ids, scores, 0.0).to(torch.float64).unsqueeze(1))
        feat_names.append(f"score_{name}")
    return torch.cat(cols, 1), feat_names


class Matcher:
    """Logistic regression over pair features (C++ Newton solver, L2 ``l2`` on standardised
    features = sklearn ``C = 1 / l2``) with an operating ``threshold``."""

    def __init__(self, **options: Any):
        """``options``: those of C++ ``MatcherOptions`` (``l2``, ``max_iter``, ``tol``, ``threshold``)."""
        self._m = _d.Matcher(make(_d.MatcherOptions, options, where="matcher"))
        self.feature_names: List[str] = []

    def fit(self, x: torch.Tensor, y: torch.Tensor, feature_names: Sequence[str] = ()) -> "Matcher":
        self._m.fit(x, y)
        self.feature_names = list(feature_names)
        return self

    def choose_threshold(self, x: torch.Tensor, y: torch.Tensor) -> Dict[str, float]:
        """Sets the threshold that maximises F1 on (x, y); returns it with its P/R/F1."""
        c = best_f1_threshold(self.predict_proba(x), y)
        self._m.threshold = c["threshold"]
        return c

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        return self._m.predict_proba(x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self._m.predict(x)

    @property
    def threshold(self) -> float:
        return self._m.threshold

    @threshold.setter
    def threshold(self, t: float) -> None:
        self._m.threshold = float(t)

    @property
    def coef(self) -> torch.Tensor:
        return self._m.coef

    @property
    def intercept(self) -> float:
        return self._m.intercept

    def weights(self) -> Dict[str, float]:
        return dict(zip(self.feature_names, self.coef.tolist()))

    def save(self, path: str | os.PathLike) -> None:
        """Parameters and feature names as JSON (atomic), for ``Matcher.load``."""
        from . import results

        if not self._m.fitted:
            raise ValueError("Matcher.save: not fitted")
        results.write_json(str(path), {"format": "lookalike.Matcher/1", "features": self.feature_names,
                                       "coef": self.coef.tolist(), "intercept": self.intercept,
                                       "mean": self._m.mean.tolist(), "scale": self._m.scale.tolist(),
                                       "threshold": self.threshold})

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Matcher":
        """A matcher saved by ``save`` (e.g. trained where ground truth exists, applied where it
        does not). OSError when the file is missing or not a matcher file."""
        import json

        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            assert d.get("format") == "lookalike.Matcher/1"
            coef, mean, scale = (torch.tensor(d[k], dtype=torch.float64) for k in ("coef", "mean", "scale"))
            names, intercept, threshold = list(d["features"]), float(d["intercept"]), float(d["threshold"])
        except FileNotFoundError:
            raise OSError(f"matcher file '{path}' does not exist") from None
        except (ValueError, KeyError, TypeError, AssertionError, AttributeError):
            raise OSError(f"'{path}' is not a lookalike matcher file") from None
        if len(names) != len(coef):
            raise OSError(f"'{path}': {len(names)} feature names for {len(coef)} weights")
        m = cls()
        m._m = _d.Matcher.from_parameters(coef, intercept, mean, scale, threshold)
        m.feature_names = names
        return m


def compare_pipelines(candidates: Sequence[torch.Tensor], positive: Sequence[torch.Tensor], query_rows: torch.Tensor,
                      ns: Sequence[int]):
    """True-positive sets of pipelines over the same queries (C++): found pairs per top n,
    their union, the overlap matrix, the Venn region counts and the pairs one pipeline alone
    finds."""
    return _d.compare_pipelines(list(candidates), list(positive), query_rows, [int(n) for n in ns])


def cluster_scores(pred: torch.Tensor, groups: torch.Tensor, rows: Optional[torch.Tensor] = None) -> Dict[str, float]:
    """Mean per-item F1 of predicted vs true group (Shopee's metric) and pairwise P/R/F1."""
    s = _d.cluster_scores(pred, groups, rows)
    return {"mean_f1": s.mean_f1, "pair_precision": s.pair_precision, "pair_recall": s.pair_recall,
            "pair_f1": s.pair_f1}
