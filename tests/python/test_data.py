import gzip
import os

import numpy as np
import pytest
import torch

import lookalike
from lookalike import data


def test_fashion_mnist_shapes(fmnist_test):
    x, y = fmnist_test
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (10000,) and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == [1000] * 10


def test_fashion_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="split"):
        data.fashion_mnist("val")
    with pytest.raises(OSError, match="not found"):
        data.fashion_mnist("test", root=str(tmp_path))
    # A corrupt IDX: right name, truncated body.
    header = bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big")
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(header + bytes(50))
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + (100).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(100 * 784))
    with pytest.raises(lookalike.FileError, match="t10k-labels-idx1-ubyte.gz.*truncated"):
        data.fashion_mnist("test", root=str(tmp_path))


def test_product_catalog_reads_real_photos():
    if not lookalike._core.data.default_catalog_root():
        pytest.skip("../shared/data/fashion-products not found")
    cat = data.product_catalog(image_size=48, limit=40)
    assert cat.images.shape == (40, 3, 48, 48) and cat.images.dtype == torch.uint8
    assert len(cat) == 40 and len(cat.table) == 40
    assert {"articleType", "baseColour", "productDisplayName"} <= set(cat.table.columns)
    labels, names = cat.labels("articleType", top=3)
    assert labels.shape == (40,) and len(names) == 3
    assert set(labels.tolist()) <= {-1, 0, 1, 2}
    counts = cat.table["articleType"].value_counts()
    assert names[0] == counts.index[0]
    with pytest.raises(ValueError, match="no column"):
        cat.labels("price")


def test_catalog_labels_equal_pandas_frequency_codes():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    # distinct counts (no ties, where pandas' order is unspecified) and some empty cells
    values = [f"class{k}" for k in range(8) for _ in range(k + 1)] + [""] * 5
    values = [values[i] for i in rng.permutation(len(values))]
    cat = data.Catalog(images=torch.zeros(len(values), 3, 2, 2, dtype=torch.uint8),
                       table=pd.DataFrame({"c": values}), ids=[str(i) for i in range(len(values))])
    counts = cat.table["c"].value_counts(sort=True)
    counts = counts[counts.index != ""]
    for top in (None, 3):
        names = list(counts.index[:top] if top else counts.index)
        want = [names.index(v) if v in names else -1 for v in values]
        labels, got_names = cat.labels("c", top=top)
        assert got_names == names and labels.tolist() == want


def test_catalog_missing_column_and_truncated_jpeg(tmp_path):
    root = lookalike._core.data.default_catalog_root()
    if not root:
        pytest.skip("../shared/data/fashion-products not found")
    (tmp_path / "images").mkdir()
    jpg = open(os.path.join(root, "images", "10000.jpg"), "rb").read()
    (tmp_path / "images" / "7.jpg").write_bytes(jpg[: len(jpg) // 2])
    (tmp_path / "styles.csv").write_text("id,title\n7,cut photo\n")
    with pytest.raises(ValueError, match="articleType"):
        data.product_catalog(str(tmp_path), required_columns=["articleType"])
    with pytest.raises(OSError, match="7.jpg.*truncated"):
        data.product_catalog(str(tmp_path))
    # bad_image="skip": the row is left out and counted, like the listings reader does by default
    (tmp_path / "images" / "8.jpg").write_bytes(jpg)
    (tmp_path / "styles.csv").write_text("id,title\n7,cut photo\n8,whole photo\n9,no photo\n")
    cat = data.product_catalog(str(tmp_path), bad_image="skip", image_size=16)
    assert cat.ids == ["8"] and list(cat.table["title"]) == ["whole photo"] and cat.images.shape[0] == 1
    assert cat.skipped == {"unreadable image": 1, "no image file": 1}
    with pytest.raises(ValueError, match="bad_image must be error or skip"):
        data.product_catalog(str(tmp_path), bad_image="ignore")


def test_random_split_is_seeded_and_stratified():
    y = torch.arange(200) % 4
    a1, b1 = data.random_split(200, 0.25, seed=3, labels=y)
    a2, _ = data.random_split(200, 0.25, seed=3, labels=y.numpy())
    assert torch.equal(a1, a2)
    # Each class of 50 is split on its own: round(12.5) = 13 of each class.
    assert torch.bincount(y[a1]).tolist() == [13, 13, 13, 13]
    assert len(a1) == 52 and len(b1) == 148
    assert not set(a1.tolist()) & set(b1.tolist())
