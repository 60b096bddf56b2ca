"""Listings: the CSV / JSON Lines reader (columns, skips, repairs, bad input, unreadable
images), the shared sets, groups from pairs, UTF-8 repair, simulated re-listings and re-shot
photos."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import lookalike
from lookalike import dedup

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
FASHION_IMG = SHARED / "fashion-products" / "images"


def write(path: Path, data) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_csv_listings_columns_skips_and_repairs(tmp_path):
    f = write(tmp_path / "l.csv",
              b'id,title,brand,grp,colour,price\n'
              b'1,"Red shirt, cotton",Acme,g1,red,10\n'
              b'2,Red cotton shirt,Acme,g1,Red,12.5\n'
              b'3,,Acme,g2,blue,3\n'                      # empty title: skipped
              b'4,Caf\xe9 mug,Mugs,g2,white,\n'           # Latin-1 byte: repaired
              b'5,Tea mug,,,white,4\n')                   # no group: its own group
    L = dedup.listings(f, group_col="grp", text_cols=["brand"], attr_cols=["colour", "price"])
    assert L.ids == ["1", "2", "4", "5"]
    assert L.titles[0] == "Red shirt, cotton" and L.texts[0] == "Red shirt, cotton Acme"
    assert L.titles[2] == "Caf\ufffd mug" and L.repaired_utf8 == 1
    assert L.skipped == {"empty title": 1, "no group value (kept as its own group)": 1}
    assert L.groups.tolist() == [0, 0, 1, 2]
    assert L.attrs["price"] == ["10", "12.5", "", "4"]
    s = L.summary()
    assert s["groups"] == 3 and s["groups_with_duplicates"] == 1 and s["items_with_duplicates"] == 2


def test_jsonl_listings_and_phash(tmp_path):
    rows = [{"pid": "a", "name": "Blue jeans", "g": 7, "h": "ff00ff00ff00ff00"},
            {"pid": "b", "name": "Blue jean", "g": 7, "h": "FF00FF00FF00FF01"},
            {"pid": "c", "name": "Lamp", "g": 8, "h": "0000000000000000", "extra": None}]
    f = write(tmp_path / "l.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    L = dedup.listings(f, id_col="pid", title_col="name", group_col="g", phash_col="h")
    assert L.ids == ["a", "b", "c"] and L.groups.tolist() == [0, 0, 1]
    assert L.phash.dtype == torch.uint8 and L.phash[1].tolist() == [255, 0, 255, 0, 255, 0, 255, 1]


def test_listings_bad_input(tmp_path):
    good = "id,title,grp\n1,a,x\n2,b,y\n"
    with pytest.raises(OSError, match="does not exist"):
        dedup.listings(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="'colour'"):
        dedup.listings(write(tmp_path / "a.csv", good), attr_cols=["colour"])
    with pytest.raises(ValueError, match="duplicate id '1'"):
        dedup.listings(write(tmp_path / "b.csv", "id,title\n1,a\n1,b\n"))
    with pytest.raises(ValueError, match="single group"):
        dedup.listings(write(tmp_path / "c.csv", "id,title,grp\n1,a,x\n2,b,x\n"), group_col="grp")
    with pytest.raises(ValueError, match="not 16 hex digits"):
        dedup.listings(write(tmp_path / "d.csv", "id,title,h\n1,a,12zz\n"), phash_col="h")
    with pytest.raises(ValueError, match="expected a .csv"):
        dedup.listings(write(tmp_path / "e.txt", good))
    with pytest.raises(ValueError, match="expected a JSON object"):
        dedup.listings(write(tmp_path / "f.jsonl", "[1, 2]\n"))
    with pytest.raises(ValueError, match="no usable rows"):
        dedup.listings(write(tmp_path / "g.csv", "id,title\n1,\n2,  \n"))


@pytest.mark.skipif(not FASHION_IMG.exists() or not lookalike.build_info()["opencv"], reason="needs images + OpenCV")
def test_listings_images_unreadable_are_counted(tmp_path):
    ids = sorted(p.stem for p in FASHION_IMG.glob("*.jpg"))[:3]
    img = tmp_path / "img"
    img.mkdir()
    for i in ids[:2]:
        (img / f"{i}.jpg").write_bytes((FASHION_IMG / f"{i}.jpg").read_bytes())
    (img / f"{ids[2]}.jpg").write_bytes(b"\xff\xd8not a jpeg")
    f = write(tmp_path / "l.csv", "id,title\n" + "".join(f"{i},item {i}\n" for i in ids) + "999,no photo\n")
    L = dedup.listings(f, image_pattern="{id}.jpg", image_root=img, image_size=32)
    assert L.ids == ids[:2] and tuple(L.images.shape) == (2, 3, 32, 32)
    assert L.skipped == {"unreadable image": 1, "no image file": 1}
    with pytest.raises(OSError, match="not a jpeg|cannot|decode|" + ids[2]):  # the catalogue's default
        dedup.listings(f, image_pattern="{id}.jpg", image_root=img, image_size=32, bad_image="error")


def test_groups_from_pairs_union_find():
    pairs = torch.tensor([[0, 3], [3, 5], [1, 2], [6, 6]])
    assert dedup._d.groups_from_pairs(7, pairs).tolist() == [0, 1, 1, 0, 2, 0, 3]
    with pytest.raises(ValueError, match="outside"):
        dedup._d.groups_from_pairs(3, torch.tensor([[0, 3]]))


@pytest.mark.skipif(not (SHARED / "amazon-google").exists(), reason="amazon-google missing")
def test_amazon_google_set():
    L = dedup.load_set("amazon_google")
    s = L.summary()
    # 1,363 + 3,226 offers; the gold pairs form 1,105 groups of 2-6 offers (data README).
    assert s["items"] == 4589 and s["groups_with_duplicates"] == 1105 and s["largest_group"] == 6
    assert L.repaired_utf8 > 0  # the tables carry non-UTF-8 bytes
    assert L.ids[0].startswith("a") and L.ids[-1].startswith("b")


@pytest.mark.skipif(not lookalike.build_info()["opencv"], reason="needs OpenCV")
def test_simulated_relistings():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (10, 3, 32, 32), dtype=torch.uint8, generator=g)
    base = dedup.Listings(ids=[str(i) for i in range(10)], titles=[f"item number {i} blue" for i in range(10)],
                          texts=[f"item number {i} blue" for i in range(10)], groups=None,
                          attrs={"colour": ["blue"] * 10}, images=images)
    out = dedup.simulate_relistings(base, originals=4, min_copies=1, max_copies=3, seed=2)
    extra = len(out) - 10
    assert out.simulated and 4 <= extra <= 12 and out.images.shape[0] == len(out)
    sizes = torch.bincount(out.groups)
    assert int((sizes > 1).sum()) == 4 and int(sizes.max()) <= 4
    for r in range(10, len(out)):
        src = int(out.groups[r])
        assert out.ids[r].startswith(f"{src}~relist") and out.attrs["colour"][r] == "blue"
        assert not torch.equal(out.images[r], images[src])
    again = dedup.simulate_relistings(base, originals=4, seed=2)
    assert again.titles == out.titles and torch.equal(again.images, out.images)
    img = dedup.perturb_image(images[0], seed=1)
    assert img.shape == images[0].shape and img.dtype == torch.uint8


def test_repair_utf8_equals_python_decoder():
    rng = np.random.default_rng(0)
    pieces = [b"a", b"\xc3\xa9", b"\xe3\x80\x90", b"\xf0\x9f\x98\x80", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80",
              b"\xe3\x80", b"\xf4\x90\x80\x80", b"\xff", b"\xf0\x9f", b"\xe0\x80\x80", b"\xc2"]
    for _ in range(2000):
        raw = b"".join(pieces[i] for i in rng.integers(0, len(pieces), size=rng.integers(0, 8)))
        fixed, changed = dedup._d.repair_utf8(raw)
        expected = raw.decode("utf-8", errors="replace")
        assert fixed.decode("utf-8") == expected, raw
        assert changed == (expected.encode("utf-8") != raw)


@pytest.mark.skipif(not lookalike.build_info()["opencv"], reason="needs OpenCV")
def test_reshot_photo_is_a_crop_of_the_original():
    # A smooth image; the re-shot copy with only a crop (no mirror, tint, colour or JPEG) must
    # equal some crop of the original rescaled (bilinear, as OpenCV's INTER_LINEAR).
    g = torch.Generator().manual_seed(0)
    img = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 8, generator=g) * 255, size=(32, 32), mode="bilinear",
                                          align_corners=False)[0].round().to(torch.uint8)
    plain = dict(flip=0, background=0, hue=0, saturation=0, value=0, jpeg=0)
    for seed in range(3):
        out = dedup.perturb_image(img, seed, min_crop=0.8, **plain).float()
        best = min(
            (out - torch.nn.functional.interpolate(img[None, :, y:y + c, x:x + c].float(), size=(32, 32), mode="bilinear",
                                                   align_corners=False)[0]).abs().mean().item()
            for c in range(25, 33) for y in range(33 - c) for x in range(33 - c))
        assert best < 1.0, (seed, best)
    assert torch.equal(dedup.perturb_image(img, 0, min_crop=1.0, **plain), img)
    # Each step changes the photo when switched on.
    for step in (dict(flip=1), dict(hue=20), dict(value=0.5), dict(jpeg=1, min_quality=20, max_quality=20)):
        assert not torch.equal(dedup.perturb_image(img, 0, **{**plain, "min_crop": 1.0, **step}), img), step
    with pytest.raises(ValueError, match=r"unknown option 'blur' \(PhotoNoise\)"):
        dedup.perturb_image(img, 0, blur=1)
