"""Metric-learning losses, miners and the balanced sampler (C++) against their definitions
written out here in plain torch / NumPy (pytorch-metric-learning's formulas), value and
gradient, plus hand-computed cases."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lookalike
from lookalike import _core

M = _core.metric


def _opts(**kw):
    o = M.MetricOptions()
    o.update(kw, "metric")
    return o


def _batch(seed=0, b=12, d=6, classes=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, d, generator=g, dtype=torch.float32)
    y = torch.arange(b) % classes
    return x, y


def _dist(x):
    e = F.normalize(x, dim=1)
    return torch.cdist(e, e)


def _pairs(y):
    same = y[:, None] == y[None, :]
    eye = torch.eye(len(y), dtype=torch.bool)
    return same & ~eye, ~same


# --- references (loops over pairs / triplets: an independent second implementation) ------------
def ref_contrastive(x, y, pos_margin=0.0, neg_margin=1.0):
    e = F.normalize(x, dim=1)
    pos, neg = [], []
    for i, j in itertools.permutations(range(len(y)), 2):
        d = (e[i] - e[j]).norm()
        (pos if y[i] == y[j] else neg).append(
            F.relu(d - pos_margin) if y[i] == y[j] else F.relu(neg_margin - d))
    def avg_nonzero(v):
        v = torch.stack(v)
        n = (v > 0).sum()
        return v.sum() / max(int(n), 1)
    return avg_nonzero(pos) + avg_nonzero(neg)


def ref_triplet(x, y, margin=0.05, triplets=None):
    e = F.normalize(x, dim=1)
    if triplets is None:
        triplets = [(a, p, n) for a in range(len(y)) for p in range(len(y)) for n in range(len(y))
                    if a != p and y[a] == y[p] and y[a] != y[n]]
    v = torch.stack([F.relu((e[a] - e[p]).norm() - (e[a] - e[n]).norm() + margin)
                     for a, p, n in triplets])
    return v.sum() / max(int((v > 0).sum()), 1)


def ref_multi_similarity(x, y, alpha=2.0, beta=50.0, base=0.5):
    e = F.normalize(x, dim=1)
    s = e @ e.T
    pos, neg = _pairs(y)
    out = []
    for i in range(len(y)):
        p = torch.exp(-alpha * (s[i][pos[i]] - base)).sum()
        n = torch.exp(beta * (s[i][neg[i]] - base)).sum()
        out.append(torch.log1p(p) / alpha + torch.log1p(n) / beta)
    return torch.stack(out).mean()


def ref_normalized_softmax(x, y, W, temperature=0.05):
    logits = F.normalize(x, dim=1) @ F.normalize(W, dim=0) / temperature
    return F.cross_entropy(logits, y)


def ref_proxy_anchor(x, y, P, margin=0.1, alpha=32.0):
    s = F.normalize(x, dim=1) @ F.normalize(P, dim=1).T
    C = P.shape[0]
    pos_terms, neg_terms = [], []
    for c in range(C):
        xp, xn = s[y == c, c], s[y != c, c]
        if len(xp):
            pos_terms.append(torch.log1p(torch.exp(-alpha * (xp - margin)).sum()))
        neg_terms.append(torch.log1p(torch.exp(alpha * (xn + margin)).sum()))
    return torch.stack(pos_terms).mean() + torch.stack(neg_terms).sum() / C


def ref_arcface(x, y, W, margin_deg=28.6, scale=64.0):
    cos = F.normalize(x, dim=1) @ F.normalize(W, dim=0)
    theta = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    target = F.one_hot(y, W.shape[1]).bool()
    logits = torch.where(target, torch.cos(theta + math.radians(margin_deg)), cos) * scale
    return F.cross_entropy(logits, y)


def _check(name, reference, **kw):
    x, y = _batch()
    loss = M.make_loss(_opts(loss=name, **kw.pop("options", {})), x.shape[1], 4)
    params = {k: v.detach().clone() for k, v in loss.named_parameters().items()}
    xa = x.clone().requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    got = loss(xa, y)
    want = reference(xb, y, **{k: params[v] for k, v in kw.get("params", {}).items()}, **kw.get("ref", {}))
    got.backward(), want.backward()
    assert got.item() == pytest.approx(want.item(), rel=1e-5, abs=1e-6), name
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-4, atol=1e-6)


def test_losses_equal_their_definitions_value_and_gradient():
    _check("contrastive", ref_contrastive)
    _check("contrastive", ref_contrastive, options=dict(pos_margin=0.2, neg_margin=0.8),
           ref=dict(pos_margin=0.2, neg_margin=0.8))
    _check("triplet", ref_triplet)
    _check("triplet", ref_triplet, options=dict(triplet_margin=0.5), ref=dict(margin=0.5))
    _check("multi_similarity", ref_multi_similarity)
    _check("normalized_softmax", ref_normalized_softmax, params=dict(W="W"))
    _check("proxy_anchor", ref_proxy_anchor, params=dict(P="proxies"))
    _check("arcface", ref_arcface, params=dict(W="W"))
    assert M.losses() == ["arcface", "contrastive", "multi_similarity", "normalized_softmax",
                          "proxy_anchor", "triplet"]


def test_triplet_hand_computed():
    # Three points on the unit circle: anchor (1, 0), positive at 90 degrees, negative at 180.
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 0, 1])
    loss = M.make_loss(_opts(loss="triplet", triplet_margin=1.0), 2, 2)
    # Triplets (0, 1, 2) and (1, 0, 2): d_ap = sqrt(2) both; d_an = 2 and sqrt(2).
    # Losses: relu(sqrt2 - 2 + 1) = 0.4142, relu(1) = 1; both non-zero: mean 0.7071.
    assert loss(x, y).item() == pytest.approx((math.sqrt(2) - 1 + 1) / 2, rel=1e-6)
    # Contrastive with neg_margin 1: negative pairs at distance 2 and sqrt2 both exceed it: 0;
    # positive pairs (0, 1), (1, 0) at sqrt2 with pos_margin 0: mean sqrt2.
    c = M.make_loss(_opts(loss="contrastive"), 2, 2)
    assert c(x, y).item() == pytest.approx(math.sqrt(2), rel=1e-6)


def test_miners_against_brute_force():
    x, y = _batch(seed=3, b=16)
    d = _dist(x)
    pos, neg = _pairs(y)
    # batch_hard: farthest positive and nearest negative per anchor
    t = M.mine(_opts(loss="triplet", miner="batch_hard"), x, y)
    assert t["anchor"].tolist() == list(range(16))
    for a, p, n in zip(t["anchor"], t["positive"], t["negative"]):
        assert d[a, p] == d[a][pos[a]].max() and d[a, n] == d[a][neg[a]].min()
    # semi_hard: 0 < d_an - d_ap <= margin, every such triplet and no other
    t = M.mine(_opts(loss="triplet", miner="semi_hard", miner_margin=0.3), x, y)
    got = set(zip(t["anchor"].tolist(), t["positive"].tolist(), t["negative"].tolist()))
    want = {(a, p, n) for a in range(16) for p in range(16) for n in range(16)
            if pos[a, p] and neg[a, n] and 0 < d[a, n] - d[a, p] <= 0.3}
    assert got == want and len(want) > 0
    # multi_similarity: hard negatives S_an + eps > min positive S; hard positives S_ap - eps < max negative S
    s = F.normalize(x, dim=1) @ F.normalize(x, dim=1).T
    t = M.mine(_opts(loss="multi_similarity", miner="multi_similarity", miner_epsilon=0.1), x, y)
    for a in range(16):
        min_pos, max_neg = s[a][pos[a]].min(), s[a][neg[a]].max()
        assert torch.equal(t["neg_pairs"][a], neg[a] & (s[a] + 0.1 > min_pos))
        assert torch.equal(t["pos_pairs"][a], pos[a] & (s[a] - 0.1 < max_neg))


def test_mined_triplet_loss_uses_the_mined_triplets():
    x, y = _batch(seed=4)
    o = _opts(loss="triplet", miner="batch_hard")
    t = M.mine(o, x, y)
    loss = M.make_loss(o, x.shape[1], 4)
    want = ref_triplet(x, y, triplets=list(zip(t["anchor"].tolist(), t["positive"].tolist(),
                                               t["negative"].tolist())))
    assert loss(x, y, t).item() == pytest.approx(want.item(), rel=1e-5)


def test_metric_option_errors():
    with pytest.raises(ValueError, match="unknown metric loss 'npair'"):
        M.validate(_opts(loss="npair"))
    with pytest.raises(ValueError, match="unknown miner 'hardest'"):
        M.validate(_opts(loss="triplet", miner="hardest"))
    with pytest.raises(ValueError, match="takes no miner"):
        M.validate(_opts(loss="arcface", miner="batch_hard"))
    with pytest.raises(ValueError, match="'temperature' does not apply"):
        M.validate(_opts(loss="triplet", temperature=0.1))


def test_class_balanced_order():
    y = torch.tensor([0] * 10 + [1] * 7 + [2] * 3 + [3] * 12 + [4] * 8)
    order = M.class_balanced_order(y, 4, 8, 5)
    assert len(order) == (40 // 8) * 8
    for b in range(0, len(order), 8):
        labels = y[order[b:b + 8]].tolist()
        assert sorted(set(labels)) == sorted(set(labels[:4]) | set(labels[4:]))
        assert len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1 and labels[0] != labels[4]
    assert M.class_balanced_order(y, 4, 8, 5) == order  # seeded
    with pytest.raises(ValueError, match="class 7 has a single image"):
        M.class_balanced_order(torch.tensor([7, 1, 1, 2, 2]), 2, 4, 0)
    with pytest.raises(ValueError, match="not a multiple"):
        M.class_balanced_order(y, 4, 10, 0)


def test_fit_with_a_metric_loss_improves_retrieval(small_set):
    x, y = small_set
    common = dict(epochs=3, batch_size=64, lr=3e-3, channels=[16, 32], embedding_dim=32,
                  progress="off", seed=2, sampler="class_balanced", samples_per_class=8)
    r = lookalike.fit(x[:640], y[:640], val=(x[640:], y[640:]), loss="multi_similarity",
                      miner="multi_similarity", **common)
    h = r.history
    assert "train_accuracy" not in h[0] and {"val_precision_at_1", "val_map_at_r"} <= set(h[0])
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    # Better than the untrained network's retrieval of the same validation images.
    torch.manual_seed(2)
    start = lookalike.train.network(channels=[16, 32], embedding_dim=32, in_channels=1)
    e = start.embed(x[640:])
    untrained = lookalike.eval.retrieval_metrics(e, y[640:])["map_at_r"]
    assert h[-1]["val_map_at_r"] > untrained
    with pytest.raises(ValueError, match="num_classes is the classifier's"):
        lookalike.fit(x[:64], y[:64], loss="triplet", num_classes=10, **common)
    with pytest.raises(ValueError, match="noisy-label filter 'coteaching'"):
        lookalike.fit(x[:64], y[:64], loss="triplet", filter="coteaching", **common)
