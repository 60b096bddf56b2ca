import threading
import time

import numpy as np
import pytest
import torch

import lookalike
from lookalike.eval import exact_knn, retrieval_metrics
from reference_metrics import retrieval_metrics as numpy_metrics

BACKENDS = ["fused", "torch"] + (["faiss"] if lookalike.build_info()["faiss"] else [])


def circle(degrees):
    a = np.deg2rad(np.array(degrees, dtype=np.float64))
    return torch.tensor(np.stack([np.cos(a), np.sin(a)], 1), dtype=torch.float32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_computed_case(backend):
    # Points at 0, 15, 52, 90, 100 degrees with labels 0, 0, 1, 1, 1; neighbours by angle:
    #   q0: 15(0) ...          R=1  p@1=1 rp=1   ap=1
    #   q1: 0(0) ...           R=1  p@1=1 rp=1   ap=1
    #   q2: 15(0) 90(1) 100(1) R=2  p@1=0 rp=1/2 ap=(1/2)(1/2)=1/4; hit within 2
    #   q3: 100(1) 52(1)       R=2  p@1=1 rp=1   ap=1
    #   q4: 90(1) 52(1)        R=2  p@1=1 rp=1   ap=1
    m = retrieval_metrics(circle([0, 15, 52, 90, 100]), torch.tensor([0, 0, 1, 1, 1]), k=(1, 2), backend=backend)
    assert m["precision_at_1"] == pytest.approx(0.8, abs=1e-12)
    assert m["recall_at_1"] == pytest.approx(0.8, abs=1e-12)
    assert m["recall_at_2"] == pytest.approx(1.0, abs=1e-12)
    assert m["r_precision"] == pytest.approx(0.9, abs=1e-12)
    assert m["map_at_r"] == pytest.approx(0.85, abs=1e-12)
    assert m["num_queries"] == 5 and m["num_excluded"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_numpy_on_random_data(backend, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((300, 12)).astype(np.float32)
    ql = rng.integers(0, 7, 300)
    got = retrieval_metrics(q, ql, k=(1, 5, 20), backend=backend)
    want = numpy_metrics(q, ql, ks=(1, 5, 20))
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key


@pytest.mark.parametrize("backend", BACKENDS)
def test_separate_reference_matches_numpy(backend):
    rng = np.random.default_rng(5)
    q = rng.standard_normal((150, 8)).astype(np.float32)
    r = rng.standard_normal((400, 8)).astype(np.float32)
    ql = rng.integers(0, 6, 150)  # label 5 has no reference below: those queries are excluded
    rl = rng.integers(0, 5, 400)
    got = retrieval_metrics(q, ql, r, rl, k=(1, 10), backend=backend)
    want = numpy_metrics(q, ql, r, rl, ks=(1, 10))
    assert got["num_excluded"] == want["num_excluded"] > 0
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key


def test_small_tiles_give_the_same_answer():
    rng = np.random.default_rng(2)
    q = torch.from_numpy(rng.standard_normal((500, 6)).astype(np.float32))
    ql = torch.from_numpy(rng.integers(0, 4, 500))
    core = lookalike._core.eval
    big = core.retrieval_metrics(q, ql, None, None, core.RetrievalOptions(ks=[1, 10], max_entries=1 << 24))
    tiny = core.retrieval_metrics(q, ql, None, None, core.RetrievalOptions(ks=[1, 10], max_entries=1000))
    assert big == pytest.approx(tiny, abs=1e-12)


@pytest.mark.parametrize("metric", ["ip", "l2"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_knn_against_brute_force(metric, backend):
    rng = np.random.default_rng(3)
    q = rng.standard_normal((64, 10)).astype(np.float32)
    r = rng.standard_normal((500, 10)).astype(np.float32)
    for k in (1, 7, 500):
        scores, idx = exact_knn(q, r, k, metric=metric, backend=backend)
        if metric == "ip":
            full = q.astype(np.float64) @ r.T.astype(np.float64)
            want = np.argsort(-full, axis=1, kind="stable")[:, :k]
        else:
            full = ((q[:, None, :].astype(np.float64) - r[None].astype(np.float64)) ** 2).sum(-1)
            want = np.argsort(full, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(idx.numpy(), want)
        np.testing.assert_allclose(scores.numpy(), np.take_along_axis(full, want, 1), rtol=1e-4, atol=1e-3)


def test_bad_input_raises_value_error():
    x = torch.randn(10, 4)
    y = torch.arange(10) % 2
    with pytest.raises(ValueError, match="larger than the reference set"):
        retrieval_metrics(x, y, k=(10,))
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        retrieval_metrics(bad, y)
    with pytest.raises(ValueError, match="labels"):
        retrieval_metrics(x, y[:9], k=(1,))
    with pytest.raises(ValueError, match="2-d"):
        retrieval_metrics(x[None], y, k=(1,))
    with pytest.raises(ValueError, match="dtype"):
        retrieval_metrics(x.to(torch.complex64), y, k=(1,))
    with pytest.raises(ValueError, match="not a mix"):
        retrieval_metrics(x, y.numpy(), k=(1,))
    with pytest.raises(ValueError, match="both"):
        retrieval_metrics(x, y, reference=x)
    with pytest.raises(ValueError):
        exact_knn(x, torch.randn(5, 3), 1)
    with pytest.raises(ValueError, match="k must be"):
        exact_knn(x, x, 0)
    assert issubclass(lookalike.InvalidArgument, ValueError)


def test_numpy_inputs_are_used_without_copy():
    from lookalike._tensors import as_tensor

    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = as_tensor(a, "a", torch.float32, dim=2)
    assert np.shares_memory(a, t.numpy())


def test_gil_is_released_during_evaluation():
    x = torch.nn.functional.normalize(torch.randn(20000, 64), dim=1)
    y = torch.randint(0, 10, (20000,))
    done = threading.Event()
    ticks = 0

    def work():
        retrieval_metrics(x, y, k=(1, 10))
        done.set()

    t = threading.Thread(target=work)
    start = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - start
    # With the GIL held the main thread could not wake up until the call returned (ticks ~ 1).
    assert elapsed > 0.05, elapsed
    assert ticks >= 10, (ticks, elapsed)


def test_ranked_metrics_equal_retrieval_metrics_on_the_same_order_and_truncate():
    from lookalike import eval as ev
    g = torch.Generator().manual_seed(4)
    q = torch.nn.functional.normalize(torch.randn(40, 8, generator=g), dim=1)
    r = torch.nn.functional.normalize(torch.randn(90, 8, generator=g), dim=1)
    ql, rl = torch.randint(0, 6, (40,), generator=g), torch.randint(0, 6, (90,), generator=g)
    _, ids = ev.exact_knn(q, r, 90)
    want = ev.retrieval_metrics(q, ql, r, rl, k=(1, 5))
    got = ev.ranked_metrics(ids, ql, rl, k=(1, 5))
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key
    # truncated at 2 with -1 padding: R = 2 for label 7; hits at ranks 1 only -> AP = 1/2
    m = ev.ranked_metrics(torch.tensor([[0, -1], [1, 2]]), torch.tensor([7, 3]), torch.tensor([7, 3, 7]),
                          k=(1, 2))
    assert m["map_at_r"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["precision_at_1"] == 1.0 and m["num_queries"] == 2
    with pytest.raises(ValueError, match="rows of the 3 references"):
        ev.ranked_metrics(torch.tensor([[5]]), torch.tensor([7]), torch.tensor([7, 3, 7]))
