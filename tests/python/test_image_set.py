"""The labelled image-set reader (data/image_set.h) and the class split, against the files read
independently (csv module, os.walk) and properties."""
import csv
import os
import shutil

import pytest
import torch

import lookalike
from lookalike import data

GROCERY = lookalike._core.data.shared_data_dir("grocery-store")
needs_grocery = pytest.mark.skipif(not GROCERY, reason="../shared/data/grocery-store not found")


def _classes_csv():
    with open(os.path.join(GROCERY, "dataset", "classes.csv"), newline="") as f:
        return list(csv.DictReader(f))


@needs_grocery
def test_grocery_catalogue_images_and_class_names():
    rows = _classes_csv()
    s = data.image_set("grocery", split="iconic", image_size=24)
    assert s.images.shape == (81, 3, 24, 24) and s.images.dtype == torch.uint8
    assert s.labels.tolist() == [int(r["Class ID (int)"]) for r in rows]
    names = {int(r["Class ID (int)"]): r["Class Name (str)"] for r in rows}
    assert s.class_names == [names[i] for i in range(81)]
    assert s.paths[0].endswith("Golden-Delicious_Iconic.jpg")
    coarse = data.image_set("grocery", split="iconic", image_size=8, class_level="coarse")
    assert coarse.labels.tolist() == [int(r["Coarse Class ID (int)"]) for r in rows]
    assert len(coarse.class_names) == len({r["Coarse Class ID (int)"] for r in rows}) and coarse.class_names[0] == "Apple"


@needs_grocery
def test_grocery_split_lists_and_limits():
    with open(os.path.join(GROCERY, "dataset", "val.txt")) as f:
        lines = [ln.split(",") for ln in f if ln.strip()]
    s = data.image_set("grocery", split="val", image_size=16)
    assert len(s) == len(lines) == 296
    assert s.labels.tolist() == [int(ln[1]) for ln in lines]
    assert [p.split("/dataset/")[1] for p in s.paths] == [ln[0].strip() for ln in lines]
    assert len(s.class_names) == 81  # every class named, present here or not
    # max_per_class keeps the first ones of each class; min_class_size drops the small classes
    capped = data.image_set("grocery", split="val", image_size=16, max_per_class=2, min_class_size=2)
    counts = torch.bincount(capped.labels, minlength=81)
    full = torch.bincount(s.labels, minlength=81)
    assert torch.equal(counts, torch.where(full >= 2, torch.full_like(full, 2), torch.zeros_like(full)))
    assert capped.skipped["over max_per_class"] == int((full - 2).clamp(min=0).sum())
    assert capped.skipped.get("class smaller than min_class_size", 0) == int((full == 1).sum())
    assert torch.equal(capped.images[0], s.images[0])


def _copy_tree(tmp_path):
    """Four real photos in two nested class folders, plus files the reader must skip."""
    src = os.path.join(GROCERY, "dataset", "train", "Fruit", "Apple", "Granny-Smith")
    photos = sorted(os.listdir(src))[:4]
    classes = {"b/green": photos[:3], "a": photos[3:]}
    for cls, names in classes.items():
        os.makedirs(tmp_path / "photos" / cls)
        for n in names:
            shutil.copy(os.path.join(src, n), tmp_path / "photos" / cls / n)
    (tmp_path / "photos" / "a" / "notes.txt").write_text("not an image")
    shutil.copy(os.path.join(src, photos[0]), tmp_path / "photos" / "stray.jpg")
    return classes


@needs_grocery
def test_folder_and_csv_read_the_same_set(tmp_path):
    classes = _copy_tree(tmp_path)
    f = data.image_set("folder", root=str(tmp_path / "photos"), image_size=20)
    assert f.class_names == ["a", "b/green"]  # sorted names
    assert f.labels.tolist() == [0, 1, 1, 1]  # depth-first, sorted
    assert f.skipped == {"not an image file name": 1, "image outside a class folder": 1}
    for img, path in zip(f.images, f.paths):
        assert torch.equal(img, data.read_image(path, 20))
    lines = ["file,kind,shade"] + [f"photos/{c}/{n},{c.split('/')[0]},x" for c, ns in classes.items() for n in ns]
    lines.append("photos/a/missing-class.jpg,,x")
    (tmp_path / "list.csv").write_text("\n".join(lines) + "\n")
    c = data.image_set("csv", root=str(tmp_path / "list.csv"), path_column="file", class_columns=["kind"],
                       image_size=20)
    assert c.class_names == ["a", "b"] and c.skipped == {"no class value": 1}
    order = [f.paths.index(p) for p in c.paths]
    assert torch.equal(c.images, f.images[order]) and torch.equal(c.labels, f.labels[order])
    two = data.image_set("csv", root=str(tmp_path / "list.csv"), path_column="file",
                         class_columns=["kind", "shade"], image_size=8)
    assert two.class_names == ["a/x", "b/x"]


@needs_grocery
def test_bad_input_is_named(tmp_path):
    _copy_tree(tmp_path)
    with pytest.raises(ValueError, match="unknown image set 'nope'"):
        data.image_set("nope")
    with pytest.raises(ValueError, match="'split' applies only to grocery"):
        data.image_set("folder", root=str(tmp_path), split="test")
    with pytest.raises(ValueError, match="'path_column' applies only to csv"):
        data.image_set("grocery", path_column="file")
    with pytest.raises(ValueError, match="'class_columns' applies only to csv and fashion_products"):
        data.image_set("folder", root=str(tmp_path), class_columns=["x"])
    with pytest.raises(ValueError, match="split must be train, val, test, iconic"):
        data.image_set("grocery", split="tset")
    with pytest.raises(ValueError, match="needs root"):
        data.image_set("csv")
    with pytest.raises(ValueError, match="unknown option"):
        data.image_set("grocery", colour="red")
    with pytest.raises(OSError, match="nowhere.csv"):
        data.image_set("csv", root=str(tmp_path / "nowhere.csv"))
    (tmp_path / "l.csv").write_text("path,class\nphotos/a/x.jpg,a\n")
    with pytest.raises(ValueError, match="'l.csv' has no column 'kind'|kind"):
        data.image_set("csv", root=str(tmp_path / "l.csv"), class_columns=["kind"])
    with pytest.raises(OSError, match="x.jpg"):
        data.image_set("csv", root=str(tmp_path / "l.csv"))
    with pytest.raises(ValueError, match="no image left"):
        data.image_set("csv", root=str(tmp_path / "l.csv"), bad_image="skip")
    with pytest.raises(ValueError, match="no image left"):
        data.image_set("folder", root=str(tmp_path / "photos"), min_class_size=5)


def test_class_split_properties():
    y = torch.tensor([3, 3, 7, 1, 7, 9, -1, 1, 3, 12, 9, 9])
    s = data.class_split(y, 0.4, seed=5)
    assert len(s["first_classes"]) == 2 and len(s["second_classes"]) == 3  # round(0.4 * 5)
    first, second = set(y[s["first"]].tolist()), set(y[s["second"]].tolist())
    assert not first & second and first | second == {1, 3, 7, 9, 12}
    assert 6 not in s["first"].tolist() + s["second"].tolist()  # label -1: no class
    for side in ("first", "second"):
        assert torch.equal(s[f"{side}_classes"][s[f"{side}_labels"]], y[s[side]])
        assert s[f"{side}_classes"].tolist() == sorted(s[f"{side}_classes"].tolist())
    again = data.class_split(y, 0.4, seed=5)
    assert all(torch.equal(s[k], again[k]) for k in s)
    splits = {tuple(data.class_split(y, 0.4, seed=k)["first_classes"].tolist()) for k in range(20)}
    assert len(splits) > 3  # the seed moves classes
    with pytest.raises(ValueError, match="no labelled item"):
        data.class_split(torch.full((3,), -1), 0.5)


def test_select_classes_renumbers_by_position():
    y = torch.tensor([4, 2, 9, 4, 7, 2])
    idx, lab = data.select_classes(y, torch.tensor([2, 4]))
    assert idx.tolist() == [0, 1, 3, 5] and lab.tolist() == [1, 0, 1, 0]
    s = data.class_split(y, 0.5, seed=1)
    idx, lab = data.select_classes(y, s["second_classes"])
    assert torch.equal(idx, s["second"]) and torch.equal(lab, s["second_labels"])
    with pytest.raises(ValueError, match="listed twice"):
        data.select_classes(y, torch.tensor([2, 2]))
