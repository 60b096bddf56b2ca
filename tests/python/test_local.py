"""Local features, matching and verification against OpenCV's Python API (python3-opencv, the
same library called the way a Python user would) and planted transforms of real photos."""
import doctest

import numpy as np
import pytest
import torch

import lookalike
from lookalike import data, local

cv2 = pytest.importorskip("cv2")
GROCERY = lookalike._core.data.shared_data_dir("grocery-store")
pytestmark = pytest.mark.skipif(not GROCERY, reason="grocery-store missing")
JUICE = "dataset/train/Packages/Juice/Bravo-Apple-Juice/Bravo-Apple-Juice_001.jpg"
OTHER = "dataset/train/Packages/Milk/Arla-Standard-Milk/Arla-Standard-Milk_001.jpg"


def _photo(rel, size=348):
    return data.read_image(f"{GROCERY}/{rel}", size)  # uint8 [3, S, S] RGB


def _grey(photo):
    return cv2.cvtColor(np.ascontiguousarray(photo.permute(1, 2, 0).numpy()), cv2.COLOR_RGB2GRAY)


def _sorted(kp, desc):
    order = np.lexsort((kp[:, 1], kp[:, 0]))
    return kp[order], desc[order]


@pytest.mark.parametrize("method", ["sift", "orb", "akaze"])
def test_features_equal_opencv_python(method):
    photo = _photo(JUICE)
    f = local.extract(photo[None], method=method, max_features=500)[0]
    detector = {"sift": lambda: cv2.SIFT_create(500),
                "orb": lambda: cv2.ORB_create(500),
                "akaze": lambda: cv2.AKAZE_create()}[method]()
    kps, desc = detector.detectAndCompute(_grey(photo), None)
    # lookalike keeps the strongest 500 (AKAZE has no count option; SIFT may give one more: a
    # keypoint with two orientations)
    if len(kps) > 500:
        order = np.argsort([-k.response for k in kps], kind="stable")[:500]
        kps, desc = [kps[i] for i in order], desc[order]
    ref = np.array([[k.pt[0], k.pt[1], k.size, k.angle] for k in kps], dtype=np.float32)
    assert len(f) == len(ref) > 100
    got_kp, got_desc = _sorted(f.keypoints.numpy(), f.descriptors.numpy())
    ref_kp, ref_desc = _sorted(ref, desc)
    np.testing.assert_allclose(got_kp, ref_kp, atol=1e-4)
    np.testing.assert_array_equal(got_desc, ref_desc)
    assert f.binary == (method != "sift")


def test_shrunk_images_give_keypoints_in_the_input_pixels():
    photo = _photo(JUICE)
    full = local.extract(photo[None], method="sift")[0]
    half = local.extract(photo[None], method="sift", max_side=174)[0]
    small = cv2.resize(_grey(photo), (174, 174), interpolation=cv2.INTER_AREA)
    kps = cv2.SIFT_create(1000).detect(small, None)
    assert len(half) == len(kps)
    xs = np.sort([(k.pt[0] + 0.5) * 2 - 0.5 for k in kps])
    np.testing.assert_allclose(np.sort(half.keypoints[:, 0].numpy()), xs, atol=1e-3)
    assert half.keypoints[:, 0].max() < 348 and len(half) < len(full)


@pytest.mark.parametrize("method", ["sift", "orb"])
def test_matches_equal_a_ratio_test_and_cross_check_in_opencv(method):
    photos = torch.stack([_photo(JUICE), _photo(JUICE.replace("_001", "_002"))])
    a, b = local.extract(photos, method=method, max_features=800)
    m = local.match(a, b, ratio=0.8, mutual=True, search="brute")
    norm = cv2.NORM_L2 if method == "sift" else cv2.NORM_HAMMING
    da, db = a.descriptors.numpy(), b.descriptors.numpy()
    bf = cv2.BFMatcher(norm)
    back = {x.queryIdx: x.trainIdx for x in bf.match(db, da)}
    ref = {(p[0].queryIdx, p[0].trainIdx) for p in bf.knnMatch(da, db, k=2)
           if len(p) == 2 and p[0].distance < 0.8 * p[1].distance and back[p[0].trainIdx] == p[0].queryIdx}
    got = {tuple(r) for r in m.pairs.tolist()}
    assert len(ref) > 20
    # the same up to ties (binary distances are integers) and float rounding of near-equal ones
    assert len(got ^ ref) <= 0.02 * len(ref) + 1, (len(got), len(ref), len(got ^ ref))
    assert {tuple(r) for r in local.match(a, b, search="faiss").pairs.tolist()} == got or method == "orb"


def test_verification_recovers_a_planted_rotation_scale_and_crop():
    photo = _photo(JUICE)
    img = np.ascontiguousarray(photo.permute(1, 2, 0).numpy())
    # rotate 15 degrees about a point off-centre, scale 0.8, then shift: parts fall outside
    m = cv2.getRotationMatrix2D((150, 190), 15, 0.8)
    m[:, 2] += (20, -15)
    warped = cv2.warpAffine(img, m, (348, 348), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    other = _photo(OTHER)
    fs = local.extract(torch.stack([photo, torch.from_numpy(warped).permute(2, 0, 1), other]),
                       method="sift")
    v = local.verify(fs[0], fs[1], model="homography", threshold=3.0)
    assert v.inliers >= 100, v.inliers
    h = v.transform.numpy() / v.transform[2, 2].item()
    corners = np.array([[60, 60, 1], [290, 60, 1], [60, 290, 1], [290, 290, 1]], dtype=np.float64)
    got = corners @ h.T
    got = got[:, :2] / got[:, 2:]
    np.testing.assert_allclose(got, corners @ m.T, atol=3.0)
    s = local.verify(fs[0], fs[1], model="similarity", estimator="ransac", threshold=3.0)
    np.testing.assert_allclose(s.transform[:2, :2].numpy(), m[:, :2], atol=0.01)
    np.testing.assert_allclose(s.transform[:2, 2].numpy(), m[:, 2], atol=2.0)
    unrelated = local.verify(fs[0], fs[2], threshold=3.0)
    assert unrelated.inliers < 0.2 * v.inliers, (unrelated.inliers, v.inliers)
    # the batched call gives the same counts as the single ones
    pairs = torch.tensor([[0, 1], [0, 2], [1, 2]])
    counts = local.verify_pairs(fs, fs, pairs, threshold=3.0)
    for (i, j), (nm, ni) in zip(pairs.tolist(), counts.tolist()):
        one = local.verify(fs[i], fs[j], threshold=3.0)
        assert (nm, ni) == (len(one.matches), one.inliers)


def test_rerank_puts_the_verified_copy_first():
    photos = torch.stack([_photo(JUICE), _photo(JUICE.replace("_001", "_003")), _photo(OTHER)])
    fs = local.extract(photos, method="sift")
    # the query is photo 0; the global order (wrongly) puts the other product first
    r = local.rerank(torch.tensor([[2, 1]]), torch.tensor([[0.9, 0.5]]), fs[:1], fs, min_inliers=8)
    assert r.ids.tolist() == [[1, 2]], (r.ids, r.inliers)
    assert r.inliers[0, 0] > r.inliers[0, 1]


def test_feature_file_round_trip_and_errors(tmp_path):
    fs = local.extract(torch.stack([_photo(JUICE), _photo(OTHER)]), method="orb", max_features=200)
    local.save_features(tmp_path / "f.bin", fs, {"method": "orb", "paths": [JUICE, OTHER]})
    back, meta = local.load_features(tmp_path / "f.bin")
    assert meta["paths"] == [JUICE, OTHER]
    for x, y in zip(fs, back):
        assert torch.equal(x.keypoints, y.keypoints) and torch.equal(x.descriptors, y.descriptors)
    raw = (tmp_path / "f.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(raw[: len(raw) - 100])
    with pytest.raises(OSError, match="cut.bin"):
        local.load_features(tmp_path / "cut.bin")
    sift = local.extract(_photo(JUICE)[None], method="sift")[0]
    with pytest.raises(ValueError, match="binary"):
        local.match(sift, fs[0])
    with pytest.raises(ValueError, match="one kind"):
        local.save_features(tmp_path / "g.bin", [sift, fs[0]])
    with pytest.raises(ValueError, match="unknown option"):
        local.extract(_photo(JUICE)[None], method="sift", nfeatures=3)
    with pytest.raises(ValueError, match="surf"):
        local.extract(_photo(JUICE)[None], method="surf")


def test_doctests():
    assert doctest.testmod(local).failed == 0
