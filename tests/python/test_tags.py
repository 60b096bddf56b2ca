"""Multi-label metrics and thresholds against scikit-learn and brute force, and the tag trainer
and tagger file end to end on planted tags."""
import doctest

import numpy as np
import pytest
import torch

import lookalike
from lookalike import tags
from lookalike import eval as ev

metrics = pytest.importorskip("sklearn.metrics")


def _random_case(seed, n=60, k=7, ties=True):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(n, k, generator=g)
    if ties:
        scores = (scores * 8).floor() / 8  # many tied scores
    targets = (torch.rand(n, k, generator=g) < 0.3).float()
    targets[:, 0] = 0  # a column without a positive
    return scores, targets


def test_doctest():
    assert doctest.testmod(tags).failed == 0


@pytest.mark.parametrize("seed", range(5))
def test_f1_equals_sklearn(seed):
    scores, targets = _random_case(seed)
    pred = (scores >= 0.5).float()
    y, p = targets.numpy(), pred.numpy()
    per = metrics.f1_score(y, p, average=None, zero_division=0)
    np.testing.assert_allclose(ev.f1_per_column(pred, targets).numpy(), per, atol=1e-6)
    got = ev.f1_scores(pred, targets)
    assert got["macro"] == pytest.approx(metrics.f1_score(y, p, average="macro", zero_division=0), abs=1e-6)
    assert got["micro"] == pytest.approx(metrics.f1_score(y, p, average="micro", zero_division=0), abs=1e-6)
    assert got["precision"] == pytest.approx(metrics.precision_score(y, p, average="micro", zero_division=0), abs=1e-6)
    assert got["recall"] == pytest.approx(metrics.recall_score(y, p, average="micro", zero_division=0), abs=1e-6)


def test_f1_hand_made():
    pred = torch.tensor([[1., 0.], [1., 0.], [0., 0.]])
    true = torch.tensor([[1., 0.], [0., 0.], [1., 0.]])
    # column 0: TP 1, FP 1, FN 1 -> 0.5; column 1: nothing predicted, nothing true -> 0
    assert ev.f1_per_column(pred, true).tolist() == [0.5, 0.0]
    assert ev.f1_scores(pred, true)["macro"] == pytest.approx(0.25)


@pytest.mark.parametrize("seed", range(5))
def test_coverage_and_ap_with_known_equal_sklearn(seed):
    scores, targets = _random_case(seed)
    targets[3] = 0  # a photo with no true tag (sklearn counts it 0)
    assert ev.coverage_error(scores, targets) == pytest.approx(
        metrics.coverage_error(targets.numpy(), scores.numpy()), abs=1e-9)
    known = torch.rand(scores.shape, generator=torch.Generator().manual_seed(seed + 9)) < 0.7
    per = ev.average_precision_per_column(scores, targets, known)
    for j in range(scores.shape[1]):
        m = known[:, j].numpy()
        y, s = targets[m, j].numpy(), scores[m, j].numpy()
        if y.sum() == 0:
            assert np.isnan(per[j].item())
        else:
            assert per[j].item() == pytest.approx(metrics.average_precision_score(y, s), abs=1e-6)
    micro = ev.mean_average_precision(scores, targets, known)["micro"]
    assert micro == pytest.approx(metrics.average_precision_score(targets[known].numpy(), scores[known].numpy()), abs=1e-6)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_precision_at_k_equals_numpy(k):
    scores, targets = _random_case(3)
    order = np.argsort(-scores.numpy(), axis=1, kind="stable")[:, :k]  # ties: lower column first
    want = np.take_along_axis(targets.double().numpy(), order, axis=1).sum(1).mean() / k
    assert ev.precision_at_k(scores, targets, k) == pytest.approx(want, abs=1e-9)
    with pytest.raises(ValueError, match="k must be"):
        ev.precision_at_k(scores, targets, 0)


@pytest.mark.parametrize("seed", range(4))
def test_threshold_of_best_f1_equals_brute_force(seed):
    scores, targets = _random_case(seed, n=80)
    chosen = ev.choose_thresholds(scores, targets)
    pred = ev.apply_thresholds(scores, chosen["threshold"])
    for j in range(1, scores.shape[1]):
        s, y = scores[:, j].numpy(), targets[:, j].numpy()
        best = max(metrics.f1_score(y, (s >= t).astype(float), zero_division=0) for t in np.unique(s))
        got = metrics.f1_score(y, pred[:, j].numpy(), zero_division=0)
        assert got == pytest.approx(best, abs=1e-9)
        assert chosen["f1"][j].item() == pytest.approx(best, abs=1e-6)
    assert bool(chosen["fallback"][0]) and chosen["threshold"][0].item() == 0.5
    high = ev.choose_thresholds(scores, targets, rule="precision", precision=0.6)
    for j in range(1, scores.shape[1]):
        if bool(high["fallback"][j]):
            continue
        p = (scores[:, j] >= high["threshold"][j]).float().numpy()
        assert metrics.precision_score(targets[:, j].numpy(), p, zero_division=0) >= 0.6 - 1e-9
    with pytest.raises(ValueError, match="rule"):
        ev.choose_thresholds(scores, targets, rule="best")


def _planted(n, seed):
    """16x16 photos: "part:top"/"part:bottom" from bright bars (independent), "shade:*" from the
    background (exclusive; a quarter unlabelled)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, generator=g) * 0.2
    y = torch.zeros(n, 4)
    coin = torch.rand(n, 4, generator=g)
    light = coin[:, 2] < 0.5
    x[light] += 0.3
    y[:, 2] = ((~light) & (coin[:, 3] < 0.75)).float()
    y[:, 3] = (light & (coin[:, 3] < 0.75)).float()
    for part in range(2):
        on = coin[:, part] < 0.4
        x[on, :, part * 8:part * 8 + 8, 4:12] += 0.5
        y[:, part] = on.float()
    return (x.clamp(0, 1) * 255).to(torch.uint8), y


NAMES = ["part:bottom", "part:top", "shade:dark", "shade:light"]


def test_fit_learns_planted_tags_and_the_file_keeps_thresholds(tmp_path):
    (x, y), (vx, vy), (tx, ty) = _planted(400, 1), _planted(200, 2), _planted(200, 3)
    r = tags.fit(x, y, NAMES, val=(vx, vy), epochs=6, batch_size=32, lr=1e-2, channels=[8, 16],
                 embedding_dim=16, exclusive=["shade"], tag_loss={"name": "asl"}, progress="off", seed=1)
    assert r.history[-1]["val_map_macro"] > 0.9
    assert r.history[0]["tags_without_positives"] == 0
    t = r.tagger
    assert t.exclusive == ["shade"] and t.thresholds is None
    scores = t.scores(vx)
    torch.testing.assert_close(scores[:, 2:].sum(1), torch.ones(200))
    chosen = t.fit_thresholds(scores, vy)
    assert chosen["threshold"].shape == (4,)
    pred = t.predict(t.scores(tx))
    assert ev.f1_per_column(pred[:, :2], ty[:, :2]).min() > 0.85
    path = tmp_path / "tagger.pt"
    t.save(str(path))
    u = tags.load(str(path))
    assert u.tags == NAMES and torch.equal(u.thresholds, t.thresholds)
    assert torch.equal(u.predict(u.scores(tx)), pred)
    m = tags.evaluate(u, vx, vy, NAMES, exclusive=["shade"])
    assert m["map_macro"] == pytest.approx(r.history[-1]["val_map_macro"], abs=1e-6)
    (tmp_path / "bad.pt").write_bytes(b"no")
    with pytest.raises(OSError, match="bad.pt"):
        tags.load(str(tmp_path / "bad.pt"))


def test_bad_input_is_named():
    x, y = _planted(40, 0)
    with pytest.raises(ValueError, match="tag_pos_weight"):
        tags.fit(x, y, NAMES, tag_pos_weight="inverse", epochs=1, progress="off")
    with pytest.raises(ValueError, match="exclusive family 'shade'"):
        bad = y.clone()
        bad[0, 2:] = 1
        tags.fit(x, bad, NAMES, exclusive=["shade"], epochs=1, progress="off")
    with pytest.raises(ValueError, match="family 'colour'"):
        tags.fit(x, y, NAMES, exclusive=["colour"], epochs=1, progress="off")
    with pytest.raises(ValueError, match="targets"):
        tags.fit(x, y[:, :3], NAMES, epochs=1, progress="off")
    with pytest.raises(ValueError, match="tag"):
        lookalike.train.fit(x, torch.zeros(40, dtype=torch.int64), exclusive=["shade"], epochs=1)
    # a tag with no positive: trained (weight 1) and counted in the first record
    empty = y.clone()
    empty[:, 1] = 0
    w, missing = tags.head_weights(NAMES, empty, tag_pos_weight="balanced")
    assert missing == ["part:top"] and w[1].item() == 1.0
    r = tags.fit(x, empty, NAMES, epochs=1, batch_size=20, channels=[4], embedding_dim=4, progress="off")
    assert r.history[0]["tags_without_positives"] == 1


# --- tag data: the reader against the files it reads ---------------------------------------------

FASHION = lookalike._core.data.shared_data_dir("fashion-products")
WORDS = ["printed", "striped", "check", "solid", "floral"]


@pytest.mark.skipif(not FASHION, reason="fashion-products not found")
def test_fashion_products_tags_equal_the_csv_rows():
    import csv
    import os
    import re
    s = lookalike.data.tag_set("fashion_products", image_size=16, title_words=WORDS, untagged="keep")
    with open(os.path.join(FASHION, "styles.csv"), newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    with_image = [i for i in rows if os.path.exists(os.path.join(FASHION, "images", i + ".jpg"))]
    assert len(s) == len(with_image) and s.skipped["no image file"] == len(rows) - len(with_image)
    cols = ["gender", "articleType", "baseColour", "season", "usage"]
    for r in range(0, len(s), 97):  # every 97th photo
        row = rows[s.names[r]]
        words = set(re.findall(r"[a-z0-9\x80-\xff]+", row["productDisplayName"].lower()))
        want = {f"{c}:{row[c].strip()}" for c in cols if row[c].strip()}
        want |= {f"pattern:{w}" for w in WORDS if w in words}
        got = {t for t, v in zip(s.tags, s.targets[r].tolist()) if v == 1}
        assert got == want, s.names[r]
        assert s.titles[r] == row["productDisplayName"]
    assert [t for t, m in zip(s.tags, s.mined.tolist()) if m] == sorted(f"pattern:{w}" for w in WORDS)
    with pytest.raises(ValueError, match="indicator_columns"):
        lookalike.data.tag_set("fashion_products", indicator_columns=["x"])


def _write_csv(tmp_path, rows, header="path,tags,colour,cute,title"):
    cv2 = pytest.importorskip("cv2")
    for r in rows:
        cv2.imwrite(str(tmp_path / r.split(",")[0]), np.full((8, 8, 3), 90, np.uint8))
    (tmp_path / "t.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(tmp_path / "t.csv")


def test_csv_families_indicators_vocabulary_and_untagged(tmp_path):
    path = _write_csv(tmp_path, ["a.png,dress;bag,red,1,Floral Maxi Dress",
                                 "b.png,,blue,0,Plain tee",
                                 "c.png,,,0,plain",  # no tag at all
                                 "d.png,hat,red,,Striped hat"])
    base = dict(root=path, tag_columns=["colour"], indicator_columns=["cute"], title_column="title",
                title_words=["floral", "Striped"], image_size=8)
    s = lookalike.data.tag_set("csv", **base)
    assert s.tags == ["bag", "colour:blue", "colour:red", "cute", "dress", "hat", "pattern:floral",
                      "pattern:striped"]
    assert s.targets[0].tolist() == [1, 0, 1, 1, 1, 0, 1, 0]
    assert s.untagged == 1 and len(s) == 4 and s.skipped["empty colour cell"] == 1
    assert s.mined.tolist() == [False] * 6 + [True, True]
    skip = lookalike.data.tag_set("csv", untagged="skip", **base)
    assert len(skip) == 3 and skip.skipped["photo without a tag"] == 1 and "c.png" not in skip.names
    vocab = ["dress", "colour:red", "colour:green"]
    with pytest.raises(ValueError, match="'bag', which is not in the vocabulary"):
        lookalike.data.tag_set("csv", vocabulary=vocab, **base)
    v = lookalike.data.tag_set("csv", vocabulary=vocab, unknown_tag="skip", **base)
    assert v.tags == vocab and v.counts.tolist() == [1, 2, 0]  # green: in the vocabulary, on no photo
    assert v.skipped["tag not in the vocabulary"] > 0
    bad = _write_csv(tmp_path, ["a.png,dress,red,yes,x"])
    with pytest.raises(ValueError, match="'cute' must be 0 or 1"):
        lookalike.data.tag_set("csv", **dict(base, root=bad))
    with pytest.raises(ValueError, match="one word"):
        lookalike.data.tag_set("csv", **dict(base, title_words=["polka dot"]))
    (tmp_path / "m.csv").write_text("path,tags\nmissing.png,dress\na.png,bag\n")
    with pytest.raises(OSError, match="missing.png"):
        lookalike.data.tag_set("csv", root=str(tmp_path / "m.csv"), image_size=8)
    m = lookalike.data.tag_set("csv", root=str(tmp_path / "m.csv"), image_size=8, bad_image="skip")
    assert m.names == ["a.png"] and m.skipped["unreadable image"] == 1


@pytest.mark.parametrize("seed", range(3))
def test_precision_recall_curve_equals_sklearn(seed):
    scores, targets = _random_case(seed)
    s, y = scores[:, 1], targets[:, 1]
    p, r, t = ev.precision_recall_curve(s, y)
    sp, sr, st = metrics.precision_recall_curve(y.numpy(), s.numpy())
    m = len(st)  # scikit-learn 1.2 stops at full recall; ours goes on to the lowest score
    np.testing.assert_allclose(p[:m].numpy(), sp[:-1][::-1], atol=1e-6)
    np.testing.assert_allclose(r[:m].numpy(), sr[:-1][::-1], atol=1e-6)
    np.testing.assert_allclose(t[:m].numpy(), st[::-1], atol=1e-6)
