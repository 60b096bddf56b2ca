"""Localisation against independent truth: planted squares found by CAM boxes, boxes from maps
and crops equal to OpenCV's Python API doing the same steps, average precision equal to
scikit-learn's, and the tagged-set reader against the CSV files it reads."""
import csv
import doctest
import math

import numpy as np
import pytest
import torch

import lookalike
from lookalike import data, localise, train
from lookalike import eval as ev

cv2 = pytest.importorskip("cv2")
CCP = lookalike._core.data.shared_data_dir("clothing-co-parsing")


def _planted(n=200, side=64, square=16, seed=0):
    """Noise photos with one 16x16 square each: white (class 1) or red (class 0)."""
    g = torch.Generator().manual_seed(seed)
    images = (torch.rand(n, 3, side, side, generator=g) * 80).to(torch.uint8)
    truth = torch.zeros(n, 4, dtype=torch.int64)
    labels = torch.arange(n) % 2
    for i in range(n):
        x, y = torch.randint(0, side - square, (2,), generator=g).tolist()
        truth[i] = torch.tensor([x, y, x + square, y + square])
        if labels[i] == 1:
            images[i, :, y:y + square, x:x + square] = 255
        else:
            images[i, 0, y:y + square, x:x + square] = 255
    return images, labels, truth


def test_cam_boxes_find_planted_squares():
    images, labels, truth = _planted()
    torch.manual_seed(0)
    net = train.network(backbone="convnet", channels=[16, 32], in_channels=3, embedding_dim=0, num_classes=2)
    localise.fit_probe(net, localise.pooled_features(net, images), labels, epochs=300)
    assert (net.predict(images).argmax(1) == labels).float().mean() > 0.95
    # the logits from pooled features are forward's
    assert torch.allclose(localise.probe_logits(net, localise.pooled_features(net, images)), net.predict(images),
                          atol=1e-4)
    _, maps, classes, _ = localise.localise(net, images, classes=labels)
    assert torch.equal(classes, labels)
    grid = localise.threshold_grid(0.1)
    boxes = localise.boxes_from_maps(maps, torch.tensor([64, 64]), grid)
    acc = localise.box_accuracy(boxes, truth, labels, 2)
    whole = localise.box_accuracy(localise.whole_boxes(torch.tensor([[64, 64]]).expand(200, 2)), truth, labels, 2)
    assert acc.max_box_acc >= 0.7, acc.accuracy
    assert whole.max_box_acc == 0.0  # a 16x16 square in a 64x64 photo: IoU 1/16
    # the top class (-1) is the predicted class
    _, top, _ = localise.activation_maps(net, images[:8])
    assert torch.equal(top, net.predict(images[:8]).argmax(1))


def _cv2_box(m, size, t):
    lo, hi = float(m.min()), float(m.max())
    scaled = cv2.resize((m - lo) / (hi - lo), size, interpolation=cv2.INTER_LINEAR)
    mask = (scaled > t).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return [0, 0, 0, 0]
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[best, :4])
    return [x, y, x + w, y + h]


def test_boxes_from_maps_equal_opencv_python():
    g = torch.Generator().manual_seed(1)
    maps = torch.nn.functional.avg_pool2d(torch.rand(12, 1, 9, 9, generator=g), 3, 1, 1)[:, 0] * 5 - 1
    sizes = torch.tensor([[220, 333]] * 6 + [[64, 48]] * 6)
    thresholds = [0.1, 0.35, 0.6, 0.85]
    boxes = localise.boxes_from_maps(maps, sizes, thresholds)
    for t_i, t in enumerate(thresholds):
        for i in range(12):
            want = _cv2_box(maps[i].numpy(), tuple(sizes[i].tolist()), t)
            assert boxes[t_i, i].tolist() == want, (t, i)


def test_crop_equals_opencv_resize():
    g = torch.Generator().manual_seed(2)
    images = (torch.rand(3, 3, 60, 80, generator=g) * 255).to(torch.uint8)
    boxes = torch.tensor([[10, 5, 70, 55], [0, 0, 80, 60], [30, 20, 38, 28]])
    crops = localise.crop(images, boxes, 24)
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        region = np.ascontiguousarray(images[i].permute(1, 2, 0).numpy()[y0:y1, x0:x1])
        shrink = (x1 - x0) >= 24 and (y1 - y0) >= 24
        want = cv2.resize(region, (24, 24), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        assert np.array_equal(crops[i].permute(1, 2, 0).numpy(), want), i
    with pytest.raises(ValueError, match="not inside"):
        localise.crop(images, torch.tensor([[0, 0, 81, 10]] * 3), 24)


def test_average_precision_equals_sklearn():
    from sklearn.metrics import average_precision_score
    g = torch.Generator().manual_seed(3)
    for trial in range(5):
        scores = (torch.rand(300, 6, generator=g) * (10 if trial % 2 else 1000)).round() / 10  # ties
        targets = (torch.rand(300, 6, generator=g) < 0.2 + 0.1 * trial).float()
        per = ev.average_precision_per_column(scores, targets)
        for j in range(6):
            assert abs(per[j].item() - average_precision_score(targets[:, j], scores[:, j])) < 1e-6
        m = ev.mean_average_precision(scores, targets)
        assert abs(m["macro"] - average_precision_score(targets, scores, average="macro")) < 1e-6
        assert abs(m["micro"] - average_precision_score(targets, scores, average="micro")) < 1e-6
    assert math.isnan(ev.average_precision(torch.tensor([0.2, 0.1]), torch.tensor([0, 0])))
    with pytest.raises(ValueError, match="0 or 1"):
        ev.average_precision(torch.tensor([0.2, 0.1]), torch.tensor([2, 0]))


def _write_set(tmp_path, box_row=("a.png", "dress", 1, 2, 10, 12)):
    for name, (w, h) in {"a.png": (20, 30), "b.png": (16, 16), "c.png": (40, 10)}.items():
        cv2.imwrite(str(tmp_path / name), np.full((h, w, 3), 128, np.uint8))
    with open(tmp_path / "tags.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "tags"])
        w.writerows([["a.png", "dress| bag"], ["b.png", "bag"], ["c.png", "bag|hat|dress"]])
    with open(tmp_path / "boxes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "x0", "y0", "x1", "y1"])
        w.writerows([box_row, ["b.png", "bag", 0, 0, 16, 16], ["b.png", "hat", 0, 0, 4, 4]])
    return str(tmp_path / "tags.csv"), str(tmp_path / "boxes.csv")


def test_tag_set_csv(tmp_path):
    table, boxes = _write_set(tmp_path)
    s = data.tag_set("csv", root=table, separator="|", boxes=boxes, min_count=2, image_size=8)
    assert s.tags == ["bag", "dress"]  # hat: one photo, below min_count
    assert s.targets.tolist() == [[1, 1], [1, 0], [1, 1]]
    assert s.counts.tolist() == [3, 2] and s.sizes.tolist() == [[20, 30], [16, 16], [40, 10]]
    assert s.box_image.tolist() == [0, 1] and s.box_tag.tolist() == [1, 0]
    assert s.boxes.tolist() == [[1, 2, 10, 12], [0, 0, 16, 16]]
    assert s.skipped == {"box of a tag not in the vocabulary": 1}
    assert data.tag_set("csv", root=table, separator="|", exclude=["bag"]).tags == ["dress", "hat"]
    bad_table, bad_boxes = _write_set(tmp_path, ("a.png", "dress", 1, 2, 21, 12))  # a is 20 wide
    with pytest.raises(ValueError, match=r"boxes.csv' row 2: box \(1, 2, 21, 12\) is not inside photo 'a.png'"):
        data.tag_set("csv", root=bad_table, separator="|", boxes=bad_boxes)
    with pytest.raises(ValueError, match="applies only to csv"):
        data.tag_set("clothing_co_parsing", separator="|")
    with pytest.raises(ValueError, match="unknown tag set"):
        data.tag_set("coco")


@pytest.mark.skipif(not CCP, reason="clothing-co-parsing missing")
def test_clothing_co_parsing_matches_its_files():
    s = data.tag_set(image_size=16, exclude=["skin", "hair"])
    with open(f"{CCP}/tags.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(s) == len(rows) == 2098
    counts = {}
    for r in rows:
        for t in set(r["tags"].split(";")) - {"skin", "hair", ""}:
            counts[t] = counts.get(t, 0) + 1
    assert s.tags == sorted(counts) and s.counts.tolist() == [counts[t] for t in s.tags]
    with open(f"{CCP}/boxes.csv") as f:
        boxes = [r for r in csv.DictReader(f) if r["label"] in counts]
    assert len(s.boxes) == len(boxes)
    first = boxes[0]
    assert s.names[int(s.box_image[0])] == first["photo"] and s.tags[int(s.box_tag[0])] == first["label"]
    assert s.boxes[0].tolist() == [int(first[k]) for k in ("x0", "y0", "x1", "y1")]
    localise.check_boxes(s.boxes, s.sizes[s.box_image])


def test_doctests():
    for module in (localise, ev):
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0


def test_embed_with_crop_embeds_the_region():
    images, labels, truth = _planted(n=8)
    torch.manual_seed(0)
    net = train.network(backbone="convnet", channels=[8], in_channels=3, embedding_dim=0)
    clf = train.network(backbone="convnet", channels=[8], in_channels=3, embedding_dim=0, num_classes=2)
    localise.fit_probe(clf, localise.pooled_features(clf, images), labels, epochs=20)
    assert torch.equal(net.embed(images, crop=truth), net.embed(localise.crop(images, truth, 64)))
    boxes = localise.localise(clf, images)[0]
    assert torch.equal(net.embed(images, crop=clf), net.embed(localise.crop(images, boxes, 64)))
    assert not torch.equal(net.embed(images, crop=truth), net.embed(images))


@pytest.mark.parametrize("loss", ["bce", "focal", "asl"])
def test_probe_learns_tags_with_each_multilabel_loss(loss):
    assert lookalike._core.train.multilabel_losses() == ["asl", "bce", "focal"]
    g = torch.Generator().manual_seed(4)
    features = torch.rand(300, 8, generator=g)
    targets = torch.stack([features[:, 0] > 0.5, features[:, 1] > 0.7], 1).float()
    net = train.network(backbone="convnet", channels=[8], in_channels=3, embedding_dim=0, num_classes=2)
    localise.fit_probe(net, features, targets, epochs=400, lr=0.05, weight_decay=0.0, loss={"name": loss})
    logits = torch.nn.functional.linear(features, net.state_dict()["classifier.weight"],
                                        net.state_dict()["classifier.bias"])
    ap = ev.average_precision_per_column(logits, targets)
    assert ap.min() > 0.97, (loss, ap)
    with pytest.raises(ValueError, match="multi-label"):
        localise.fit_probe(net, features, targets[:, 0].long(), loss={"name": loss}) if loss != "bce" else \
            localise.fit_probe(net, features, targets[:, 0].long(), pos_weight="balanced")
