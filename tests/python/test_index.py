"""lookalike.index: search against NumPy brute force, recall of approximate indexes on a
clustered set, persistence, removal, update logs against a rebuild, threshold clustering
against scipy's connected components, and the errors bad input gets."""
import os

import numpy as np
import pytest
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import lookalike
import lookalike.plot
from lookalike.index import Index, UpdateLog, threshold_clusters

HAVE_FAISS = lookalike.build_info()["faiss"]
needs_faiss = pytest.mark.skipif(not HAVE_FAISS, reason="this build has no FAISS")
# (spec, backend, search kwargs at the tuned setting)
SPECS = [("Flat", "engine", {})] + ([
    ("Flat", "faiss", {}),
    ("IVF32,Flat", "faiss", {"nprobe": 8}),
    ("HNSW32", "faiss", {"ef_search": 128}),
    ("IVF32,SQfp16", "faiss", {"nprobe": 8}),
] if HAVE_FAISS else [])
IDS = [f"{s}-{b}" for s, b, _ in SPECS]
# Lossy codes: recall is not their point here; persistence, removal and logs are.
ALL_SPECS = SPECS + ([("IVF32,PQ8x4", "faiss", {"nprobe": 8}),
                      ("PCA16,IVF32,SQ8", "faiss", {"nprobe": 8})] if HAVE_FAISS else [])
ALL_IDS = [f"{s}-{b}" for s, b, _ in ALL_SPECS]


def clustered(n, d=32, centers=64, spread=0.25, seed=0):
    """Unit vectors around random centres: the shape of real embedding sets."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, d))
    x = c[rng.integers(0, centers, n)] + spread * rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def brute_force(q, x, k, metric="ip"):
    s = q @ x.T if metric == "ip" else ((q[:, None, :] - x[None]) ** 2).sum(-1)
    order = np.argsort(-s if metric == "ip" else s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(s, order, 1), order


def build(spec, backend, x, ids, metric="ip", **kw):
    index = Index(x.shape[1], spec, metric=metric, backend=backend, **kw)
    index.train(x)
    index.add(x, ids)
    return index


@pytest.fixture(scope="module")
def data():
    both = clustered(4200)  # queries drawn around the same centres as the base
    x, q = both[:4000], both[4000:]
    return x, q, np.arange(4000, dtype=np.int64) * 7 + 3


@pytest.mark.parametrize("metric", ["ip", "l2"])
@pytest.mark.parametrize("backend", ["engine"] + (["faiss"] if HAVE_FAISS else []))
def test_flat_equals_brute_force(data, metric, backend):
    x, q, ids = data
    index = build("Flat", backend, x, ids, metric)
    for k in (1, 10, 4000):
        scores, got = index.search(q, k)
        ref_s, ref_i = brute_force(q.astype(np.float64), x.astype(np.float64), k, metric)
        np.testing.assert_allclose(scores.numpy(), ref_s, rtol=1e-4, atol=1e-4)
        same = got.numpy() == ids[ref_i]
        # Ties aside: a differing id must have the same score as the reference's.
        assert same.mean() > 0.999


@pytest.mark.parametrize("spec,backend,kw", SPECS, ids=IDS)
def test_recall_on_clustered_set(data, spec, backend, kw):
    x, q, ids = data
    index = build(spec, backend, x, ids)
    _, got = index.search(q, 10, **kw)
    _, ref = brute_force(q, x, 10)
    recall = np.mean([len(set(g) & set(ids[r])) / 10 for g, r in zip(got.numpy(), ref)])
    assert recall >= 0.95, f"{spec}: recall@10 {recall:.3f}"


@pytest.mark.parametrize("spec,backend,kw", ALL_SPECS, ids=ALL_IDS)
def test_save_load_identical(tmp_path, data, spec, backend, kw):
    x, q, ids = data
    index = build(spec, backend, x, ids, rebuild_fraction=0.5)
    index.remove(ids[:50])
    path = tmp_path / "index.lkx"
    index.save(path)
    loaded = Index.load(path)
    assert (loaded.spec, loaded.metric, loaded.backend, len(loaded), loaded.dead) == \
        (spec, "ip", backend, len(index), index.dead)
    for a, b in zip(index.search(q, 10, **kw), loaded.search(q, 10, **kw)):
        assert torch.equal(a, b)
    assert torch.equal(index.ids(), loaded.ids())


@pytest.mark.parametrize("spec,backend,kw", ALL_SPECS, ids=ALL_IDS)
def test_removed_ids_never_returned(data, spec, backend, kw):
    x, q, ids = data
    index = build(spec, backend, x, ids, rebuild_fraction=0.9)
    _, before = index.search(q, 20, **kw)
    gone = np.unique(before.numpy()[:, :5])  # the ids queries would find first
    assert index.remove(gone) == len(gone)
    assert len(index) == len(ids) - len(gone) and not any(int(g) in index for g in gone)
    _, after = index.search(q, 20, **kw)
    assert not np.isin(after.numpy(), gone).any()
    assert (after.numpy() >= 0).all()  # still k results each
    lims, _, rids = index.range_search(q[:20], 0.5, **kw)
    assert not np.isin(rids.numpy(), gone).any()
    if not index.removes_in_place:
        assert index.dead == len(gone)
        index.rebuild()
        assert index.dead == 0
        assert not np.isin(index.search(q, 20, **kw)[1].numpy(), gone).any()


@pytest.mark.parametrize("spec,backend,kw", ALL_SPECS, ids=ALL_IDS)
def test_update_log_equals_rebuild(tmp_path, data, spec, backend, kw):
    x, q, ids = data
    rng = np.random.default_rng(5)
    day0 = rng.permutation(len(ids))
    base, new = day0[:3000], day0[3000:]
    removed = rng.choice(base, 400, replace=False)
    lookalike.set_threads(1)  # HNSW insertion is deterministic on one thread
    try:
        saved = tmp_path / "day0.lkx"
        # Trained on the same vectors as the reference below, so quantisers are identical.
        index = Index(x.shape[1], spec, backend=backend, rebuild_fraction=0.0)
        index.train(x)
        index.add(x[base], ids[base])
        index.save(saved)

        log = UpdateLog().remove(ids[removed[:200]]).add(x[new], ids[new]).remove(ids[removed[200:]])
        log.save(tmp_path / "day1.log")
        updated = Index.load(saved)
        report = updated.apply(UpdateLog.load(tmp_path / "day1.log"))
        assert report["added"] == len(new) and report["removed"] == len(removed)
        assert report["rebuilt"] == (not updated.removes_in_place)

        keep = np.concatenate([np.setdiff1d(base, removed, assume_unique=True), new])
        if not updated.removes_in_place:  # a rebuild keeps storage order: mirror it
            keep = np.array([i for i in np.concatenate([base, new]) if i not in set(removed)])
        fresh = Index(x.shape[1], spec, backend=backend)
        fresh.train(x)
        fresh.add(x[keep], ids[keep])
        assert len(updated) == len(fresh) == len(keep)
        assert set(updated.ids().tolist()) == set(ids[keep].tolist())
        s1, i1 = updated.search(q, 10, **kw)
        s2, i2 = fresh.search(q, 10, **kw)
        np.testing.assert_allclose(s1.numpy(), s2.numpy(), rtol=1e-5, atol=1e-5)
        # Ties aside (lossy codes tie often): the ids strictly above each row's last score agree.
        for a, b, sa in zip(i1.numpy(), i2.numpy(), s1.numpy()):
            strict = sa > sa[-1] + 1e-6
            assert set(a[strict]) == set(b[strict])
    finally:
        lookalike.set_threads(0)


def test_range_search_equals_brute_force(data):
    x, q, ids = data
    specs = [("Flat", "engine", {})] + ([("Flat", "faiss", {}), ("IVF32,Flat", "faiss", {"nprobe": 32}),
                                          ("HNSW32", "faiss", {"ef_search": 256})] if HAVE_FAISS else [])
    s = q @ x.T
    for metric, thr in (("ip", 0.8), ("l2", 0.4)):
        ref = s > thr if metric == "ip" else (2 - 2 * s) < thr
        for spec, backend, kw in specs:
            index = build(spec, backend, x, ids, metric)
            lims, scores, got = index.range_search(q, thr, **kw)
            lims = lims.numpy()
            misses = total = 0
            for i in range(len(q)):
                found = got[lims[i]:lims[i + 1]].numpy()
                sc = scores[lims[i]:lims[i + 1]].numpy()
                expect = set(ids[np.nonzero(ref[i])[0]])
                border = set(ids[np.nonzero(np.abs(s[i] - (thr if metric == "ip" else 1 - thr / 2)) < 1e-5)[0]])
                if spec == "HNSW32":  # range search by a growing k-NN: approximate
                    assert set(found) - expect <= border
                    misses += len(expect - set(found) - border)
                    total += len(expect)
                else:
                    assert set(found) ^ expect <= border, (spec, metric, i)
                assert (np.diff(sc) <= 1e-6).all() if metric == "ip" else (np.diff(sc) >= -1e-6).all()
            assert misses <= 0.05 * max(total, 1), (spec, metric, misses, total)


def test_threshold_clusters_hand_made():
    # Two tight pairs, a chain a-b-c where a and c are not linked directly, and a singleton.
    deg = [0, 1, 90, 91, 180, 184, 188, 270]
    a = np.deg2rad(deg)
    x = np.stack([np.cos(a), np.sin(a)], 1).astype(np.float32)
    r = threshold_clusters(x, float(np.cos(np.deg2rad(5))))
    assert r.labels.tolist() == [0, 0, 1, 1, 2, 2, 2, 3]
    assert r.sizes.tolist() == [2, 2, 3, 1] and r.num_clusters == 4
    assert r.representatives.tolist()[2] == 5  # 184 links to both 180 and 188
    assert r.num_edges == 4 and r.reduction_ratio == pytest.approx(8 / 4)


@pytest.mark.parametrize("k", [0, 15])
def test_threshold_clusters_match_scipy(data, k):
    x = data[0][:1500]
    thr = 0.9
    r = threshold_clusters(x, thr, k=k)
    s = x @ x.T
    if k:  # only each item's k nearest may link
        nearest = np.argsort(-s, axis=1, kind="stable")[:, :k + 1]
        mask = np.zeros_like(s, dtype=bool)
        np.put_along_axis(mask, nearest, True, 1)
        s = np.where(mask | mask.T, s, -1)
    rows, cols = np.nonzero(np.triu(s > thr, 1))
    n_ref, ref = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=s.shape), directed=False)
    assert r.num_clusters == n_ref
    # Same partition: labels map one-to-one.
    pairs = set(zip(r.labels.tolist(), ref.tolist()))
    assert len(pairs) == n_ref
    assert r.reduction_ratio == pytest.approx(len(x) / n_ref)


def test_bad_input(tmp_path, data):
    x, q, ids = data
    index = Index(32)
    with pytest.raises(ValueError, match="empty"):
        index.search(q, 5)
    with pytest.raises(ValueError, match="dimension 16"):
        index.add(x[:, :16], ids)
    nan = x[:10].copy()
    nan[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        index.add(nan, ids[:10])
    with pytest.raises(ValueError, match="10 vectors but 9 ids"):
        index.add(x[:10], ids[:9])
    index.add(x, ids)
    with pytest.raises(ValueError, match="already in the index"):
        index.add(x[:1], ids[:1])
    with pytest.raises(ValueError, match="repeats id"):
        index.add(x[:2], np.array([1, 1]))
    with pytest.raises(ValueError, match="k must be >= 1"):
        index.search(q, 0)
    with pytest.raises(ValueError, match="not in the index"):
        index.remove(np.array([ids[0], 5]))
    assert len(index) == len(ids)  # a failed remove removed nothing
    with pytest.raises(ValueError, match="metric"):
        Index(32, metric="cosine")
    with pytest.raises(ValueError, match="factory string" if HAVE_FAISS else "needs FAISS"):
        Index(32, "NoSuchIndex42")
    with pytest.raises(ValueError, match="int64"):
        index.remove(np.array([0.5]))
    path = tmp_path / "i.lkx"
    index.save(path)
    good = path.read_bytes()
    # A bad update log leaves the loaded index and the saved file unchanged.
    bad = UpdateLog().remove(ids[:5]).remove(ids[:5])
    loaded = Index.load(path)
    with pytest.raises(ValueError, match="op 1 .*not in the index"):
        loaded.apply(bad)
    assert len(loaded) == len(ids) and path.read_bytes() == good
    for cut in (10, len(good) // 2, len(good) - 1):
        (tmp_path / "cut.lkx").write_bytes(good[:cut])
        with pytest.raises(OSError, match="truncated|corrupt|not a"):
            Index.load(tmp_path / "cut.lkx")
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    (tmp_path / "flip.lkx").write_bytes(bytes(flipped))
    with pytest.raises(OSError, match="checksum"):
        Index.load(tmp_path / "flip.lkx")
    with pytest.raises(OSError):
        Index.load(tmp_path / "missing.lkx")
    if HAVE_FAISS:
        ivf = Index(32, "IVF32,Flat")
        with pytest.raises(ValueError, match="trained"):
            ivf.add(x, ids)
        with pytest.raises(ValueError, match="not an HNSW"):
            ivf.train(x).add(x, ids) or ivf.search(q, 5, ef_search=10)
        with pytest.raises(ValueError, match="FAISS says"):
            Index(32, "IVF4096,Flat").train(x[:100])


def test_measure_search(data):
    x, q, ids = data
    index = build("Flat", "engine", x, ids)
    gt = index.search(q, 10)[1]
    p = lookalike._core.index.measure_search(index._index, torch.from_numpy(q), gt, 10,
                                             lookalike._core.index.SearchParams(), 50)
    assert p["neighbour_recall"] == 1.0 and p["qps"] > 0
    assert 0 < p["p50_ms"] <= p["p90_ms"] <= p["p99_ms"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_flat_matches_cpu(data, tmp_path):
    x, q, ids = data
    cpu = build("Flat", "engine", x, ids)
    gpu = build("Flat", "engine", x, ids, device="cuda")
    s1, i1 = cpu.search(q, 10)
    s2, i2 = gpu.search(q, 10)
    np.testing.assert_allclose(s1.numpy(), s2.numpy(), atol=1e-3)
    assert (i1 == i2).float().mean() > 0.99
    gpu.save(tmp_path / "g.lkx")
    assert torch.equal(Index.load(tmp_path / "g.lkx", device="cuda").search(q, 10)[1], i2)


def test_sweep_and_cached_ground_truth(tmp_path):
    x = clustered(3000, centers=3000, spread=1.0, seed=3)  # no cluster structure: IVF must probe
    q = clustered(100, centers=100, spread=1.0, seed=4)
    gt = lookalike.eval.ground_truth(x, q, 10, cache_dir=tmp_path)
    ref = brute_force(q, x, 10)[1]
    assert (gt.numpy() == ref).mean() > 0.999
    cached = list(tmp_path.glob("gt-*.pt"))
    assert len(cached) == 1
    assert torch.equal(lookalike.eval.ground_truth(x, q, 10, cache_dir=tmp_path), gt)
    assert len(list(tmp_path.glob("gt-*.pt"))) == 1  # reused, not recomputed under a new name
    specs = ["Flat"] + (["IVF32,Flat"] if HAVE_FAISS else [])
    params = {"IVF32,Flat": [{"nprobe": 1}, {"nprobe": 32}]} if HAVE_FAISS else {}
    table = lookalike.eval.sweep(specs, params, x, q, k=10, cache_dir=tmp_path, latency_queries=20)
    assert list(table["spec"]) == specs[:1] + ["IVF32,Flat"] * (2 if HAVE_FAISS else 0)
    assert table.loc[0, "neighbour_recall"] > 0.999
    if HAVE_FAISS:  # all lists probed = exact; one list misses some
        assert table.loc[2, "neighbour_recall"] > 0.999 and table.loc[1, "neighbour_recall"] < table.loc[2, "neighbour_recall"]
    assert (table["qps"] > 0).all() and (table["p50_ms"] <= table["p99_ms"]).all()
    assert (table["memory_bytes"] >= x.nbytes).all()
    fig = lookalike.plot.recall_qps(table)
    lookalike.results.save_figure(fig, str(tmp_path / "sweep.png"))
    assert (tmp_path / "sweep.png").stat().st_size > 0
    with pytest.raises(ValueError, match=r"unknown option .*nprob.* \(SearchParams\)"):
        lookalike.eval.sweep(["Flat"], {"Flat": [{"nprob": 3}]}, x, q, k=10, cache_dir=tmp_path)


@needs_faiss
def test_hnsw_ef_search_takes_effect():
    # A set where efSearch 16 misses neighbours; FAISS 1.7.3 ignores efSearch passed as a search
    # parameter, so the wrapper sets it on the graph: recall must rise with ef_search.
    both = clustered(20300, d=64, centers=200, spread=0.6, seed=7)
    x, q = both[:20000], both[20000:]
    index = Index(64, "HNSW8")
    index.add(x, np.arange(len(x)))
    _, ref = brute_force(q, x, 10)
    rec = {ef: np.mean([len(set(g) & set(r)) / 10 for g, r in zip(index.search(q, 10, ef_search=ef)[1].numpy(), ref)])
           for ef in (10, 200)}
    assert rec[200] > rec[10] + 0.02, rec
    assert index.search(q, 10)[1].shape == (300, 10)  # default ef restored, still answers
