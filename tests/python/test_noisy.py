"""lookalike.noisy and the Trainer's noisy-label filters: exact noise injection, confident
learning against hand-made cases and sklearn's cross-validated probabilities, filter
bookkeeping, and the errors bad input gets."""
import os

import numpy as np
import pytest
import torch

import lookalike
from conftest import ROOT
from lookalike.noisy import (confident_joint, cross_val_pred_probs, estimate_noise_rate, find_label_issues,
                             inject_noise, rank_by_self_confidence, realised_transition)

FILTERS = ["none", "small_loss", "coteaching", "coteaching_plus", "jocor", "loss_history", "confident_learning"]


@pytest.mark.parametrize("kind,rate", [("symmetric", 0.2), ("symmetric", 0.5), ("symmetric", 0.8),
                                       ("pairflip", 0.45)])
def test_class_conditional_noise_is_exact(kind, rate):
    y = torch.from_numpy(np.random.default_rng(0).integers(0, 10, 60000))
    noisy, corrupted, T, realised = inject_noise(y, kind=kind, rate=rate, seed=3)
    assert abs(realised - rate) < 0.005
    assert torch.equal(corrupted, noisy != y)
    counts = torch.bincount(y, minlength=10).double()
    # Largest-remainder rounding: each realised entry within one sample of the asked one.
    assert ((realised_transition(y, noisy) - T).abs() <= 1.0 / counts.unsqueeze(1) + 1e-12).all()
    expect = torch.full((10, 10), rate / 9) if kind == "symmetric" else torch.zeros(10, 10)
    if kind == "pairflip":
        expect[torch.arange(10), (torch.arange(10) + 1) % 10] = rate
    expect.fill_diagonal_(1 - rate)
    assert torch.allclose(T, expect.double())
    again = inject_noise(y, kind=kind, rate=rate, seed=3)[0]
    assert torch.equal(again, noisy) and not torch.equal(inject_noise(y, kind=kind, rate=rate, seed=4)[0], noisy)


def test_asymmetric_noise_follows_the_matrix():
    y = torch.arange(30000) % 3
    T = torch.tensor([[0.7, 0.3, 0.0], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8]], dtype=torch.float64)
    noisy, corrupted, asked, realised = inject_noise(y, kind="asymmetric", transition=T, seed=0)
    assert torch.allclose(realised_transition(y, noisy), T, atol=1e-4)
    assert realised == pytest.approx((0.3 + 0 + 0.2) / 3, abs=1e-4)


def test_instance_noise_rate_and_dependence(fmnist_test):
    x, y = fmnist_test
    noisy, corrupted, T, realised = inject_noise(y, kind="instance", rate=0.4, features=x, seed=0)
    assert abs(realised - 0.4) < 0.015  # sampled, truncated normal: close, not exact
    assert (realised_transition(y, noisy) - T).abs().max() < 0.03  # matches its expectation
    # Instance-dependent: the flips out of a class concentrate on some classes, unlike symmetric.
    off = T.clone().fill_diagonal_(0)
    assert (off.max(1).values > 1.4 * 0.4 / 9).all()


def test_noise_bad_input():
    y = torch.tensor([0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        inject_noise(torch.tensor([0, 1, 5]), num_classes=3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        inject_noise(torch.tensor([0, -1, 2]), num_classes=3)
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        inject_noise(y, rate=1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        inject_noise(y, kind="asymmetric", transition=torch.full((3, 3), 0.3))
    with pytest.raises(ValueError, match="3 x 3"):
        inject_noise(y, kind="asymmetric", transition=torch.eye(4))
    with pytest.raises(ValueError, match="features"):
        inject_noise(y, kind="instance", rate=0.2, features=torch.rand(3, 5))
    with pytest.raises(ValueError, match="kind"):
        inject_noise(y, kind="gaussian")


def test_confident_joint_hand_made():
    # Labels and probabilities of 6 samples, 2 classes. Thresholds: t0 = mean p0 over label 0
    # = (0.9 + 0.8 + 0.3) / 3 = 2/3; t1 = mean p1 over label 1 = (0.9 + 0.6 + 0.7) / 3 = 11/15.
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    p = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9], [0.4, 0.6], [0.3, 0.7]])
    # Sample 2 (label 0): p1 = 0.7 < 11/15 and p0 = 0.3 < 2/3 -> not counted; sample 4 (label 1):
    # p0 = 0.4 < t0, p1 = 0.6 < t1 -> not counted; sample 5: p1 = 0.7 < t1 -> not counted.
    assert confident_joint(y, p).tolist() == [[2, 0], [0, 1]]
    assert torch.allclose(lookalike.noisy.class_thresholds(y, p), torch.tensor([2 / 3, 11 / 15], dtype=torch.float64))
    q = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.1, 0.9], [0.2, 0.8], [0.95, 0.05]])
    # t0 = (0.9 + 0.8 + 0.1) / 3 = 0.6, t1 = (0.9 + 0.8 + 0.05) / 3 = 0.5833: sample 2 is
    # confidently class 1, sample 5 confidently class 0 -> the two off-diagonal issues.
    assert confident_joint(y, q).tolist() == [[2, 1], [1, 2]]
    assert find_label_issues(y, q, filter_by="confident_learning").tolist() == [False, False, True, False, False, True]
    for how in ("prune_by_noise_rate", "prune_by_class", "both"):
        assert find_label_issues(y, q, filter_by=how).tolist() == [False, False, True, False, False, True], how
    assert rank_by_self_confidence(y, q)[:2].tolist() == [5, 2]
    assert estimate_noise_rate(y, q) == pytest.approx(2 / 6)


def test_label_issues_with_sklearn_probabilities():
    from sklearn.datasets import make_blobs
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    x, y = make_blobs(n_samples=3000, centers=5, n_features=8, cluster_std=1.5, random_state=0)
    noisy, corrupted, _, _ = inject_noise(torch.from_numpy(y), kind="symmetric", rate=0.2, seed=0)
    probs = cross_val_predict(LogisticRegression(max_iter=1000), x, noisy.numpy(), cv=5, method="predict_proba")
    for how in ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning"):
        issues = find_label_issues(noisy, torch.from_numpy(probs), filter_by=how)
        tp = (issues & corrupted).sum().item()
        precision, recall = tp / max(issues.sum().item(), 1), tp / corrupted.sum().item()
        assert precision >= 0.85 and recall >= 0.85, (how, precision, recall)
    assert estimate_noise_rate(noisy, torch.from_numpy(probs)) == pytest.approx(0.2, abs=0.03)


def test_label_issues_from_cross_trained_convnet(small_set):
    # Out-of-fold probabilities from K-fold cross-training of the C++ Trainer on a reduced
    # Fashion-MNIST set with 20 % symmetric noise.
    x, y = lookalike.data.fashion_mnist("train")
    x, y = x[:4000], y[:4000]
    noisy, corrupted, _, _ = inject_noise(y, kind="symmetric", rate=0.2, seed=1)
    probs = cross_val_pred_probs(x, noisy, folds=4, epochs=10, batch_size=128, channels=[16, 32], lr=3e-3,
                                 seed=0)
    assert probs.shape == (4000, 10) and torch.allclose(probs.sum(1), torch.ones(4000), atol=1e-4)
    issues = find_label_issues(noisy, probs)
    tp = (issues & corrupted).sum().item()
    precision, recall = tp / max(issues.sum().item(), 1), tp / corrupted.sum().item()
    # Measured here (2 threads): precision 0.615, recall 0.900 (4 epochs: 0.561 / 0.860, and 0.59 /
    # 0.89 on an earlier machine). Precision follows the fold models' accuracy on the true labels
    # (0.786 here): their errors on clean shirts / T-shirts / pullovers / coats count as label
    # issues (noise rate estimated 0.33). 0.85 / 0.85 needs the full training set and a
    # [32, 64, 128] ConvNet (test_label_issues_full_fashion_mnist below, make test-full).
    assert recall >= 0.85 and precision >= 0.55, (precision, recall)
    # Far better than chance: a random flagging of as many samples has precision 0.2.
    assert precision > 2.5 * corrupted.float().mean().item()


@pytest.mark.full
@pytest.mark.skipif(not os.environ.get("LOOKALIKE_FULL"), reason="full Fashion-MNIST cross-training, ~22 min on "
                    "2 cores: LOOKALIKE_FULL=1 (make test-full)")
def test_label_issues_full_fashion_mnist(tmp_path):
    # experiments/label_issues_fmnist.yaml: 20 % symmetric noise planted in all 60k training
    # labels, out-of-fold probabilities of a [32, 64, 128] ConvNet (4 folds, 8 epochs).
    # Measured (seed 0): prune_by_noise_rate P 0.851 R 0.940, both P 0.873 R 0.924, fold models'
    # accuracy on the true labels 0.916. With the noise planted by seed 1 instead, the default
    # rule gave P 0.846: the margin is thin, "both" is the safer rule at this model quality.
    from lookalike import runner

    out = runner.run(str(ROOT / "experiments" / "label_issues_fmnist.yaml"), [], out=str(tmp_path))
    det = {d["filter_by"]: d for d in out["metrics"]["detection"]}
    for how in ("prune_by_noise_rate", "both"):
        assert det[how]["precision"] >= 0.85 and det[how]["recall"] >= 0.85, det[how]
    assert det["both"]["corrupted"] == 12000


def test_pred_probs_bad_input():
    y = torch.tensor([0, 1, 1])
    with pytest.raises(ValueError, match="3 labels"):
        find_label_issues(y, torch.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="sum to 1"):
        find_label_issues(y, torch.tensor([[0.9, 0.9], [0.5, 0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="sum to 1"):
        find_label_issues(y, torch.tensor([[0.2, 0.2], [0.5, 0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        find_label_issues(torch.tensor([0, 2, 1]), torch.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="filter_by"):
        find_label_issues(y, torch.full((3, 2), 0.5), filter_by="magic")


@pytest.fixture(scope="module")
def noisy_small():
    x, y = lookalike.data.fashion_mnist("train")
    x, y = x[:2000], y[:2000]
    noisy, corrupted, _, _ = inject_noise(y, kind="symmetric", rate=0.5, seed=0)
    return x, y, noisy


@pytest.mark.parametrize("name", FILTERS)
def test_filters_train_and_log(noisy_small, name):
    x, y, noisy = noisy_small
    r = lookalike.fit(x, noisy, clean_labels=y, epochs=3, batch_size=100, progress="off", channels=[8, 16],
                      filter=name, forget_rate=0.5, num_gradual=2, coteaching_plus_init_epoch=1, cl_epochs=1,
                      cl_folds=2, seed=0)
    h = r.history
    assert len(h) == 3
    for rec in h:
        assert 0 <= rec["kept_fraction"] <= 1 and 0 <= rec["label_precision"] <= 1 and 0 <= rec["clean_recall"] <= 1
    if name == "none":
        assert all(rec["kept_fraction"] == 1 and abs(rec["label_precision"] - 0.5) < 0.01 for rec in h)
    if name in ("small_loss", "coteaching", "jocor"):
        # R(t) = 1 - 0.5 min(t / 2, 1) of every batch: 1, 0.75, 0.5 (ceil per batch of 100).
        assert [round(rec["kept_fraction"], 3) for rec in h] == [1.0, 0.75, 0.5]
        assert h[-1]["label_precision"] > 0.6  # small-loss samples are mostly the clean ones
    if name == "loss_history":  # detection (epoch 1), then retraining without the top-loss half
        assert h[0]["kept_fraction"] == 1 and h[-1]["kept_fraction"] == pytest.approx(0.5, abs=0.01)
    if name == "confident_learning":
        assert "cleaning_seconds" in h[0] and h[-1]["kept_fraction"] < 1
    assert "cleaning_seconds" not in h[0] or name == "confident_learning"


def test_filter_bad_options(noisy_small):
    x, y, noisy = noisy_small
    with pytest.raises(ValueError, match="filter must be one of"):
        lookalike.fit(x[:100], noisy[:100], epochs=1, filter="magic", progress="off")
    with pytest.raises(ValueError, match="forget_rate"):
        lookalike.fit(x[:100], noisy[:100], epochs=1, filter="small_loss", forget_rate=1.0, progress="off")
    with pytest.raises(ValueError, match="clean_labels"):
        lookalike.fit(x[:100], noisy[:100], epochs=1, clean_labels=y[:50], progress="off")
