"""Multi-process runs over c10d Gloo (lookalike.dist): data-parallel training matches one process
with the same global batch, checkpoints cross world sizes, a dead rank is an error and not a hang,
and sharded search returns what the whole index returns. Each test starts real processes with
torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import lookalike
from lookalike import dist, index, train

HERE = Path(__file__).resolve().parent
PY = sys.executable
pytestmark = pytest.mark.skipif(not lookalike.build_info()["gloo"], reason="built without Gloo")

# A ConvNet whose every layer is the same in one process and in several: batch norm frozen (the
# backbone's) and no embedding projection (its batch norm would normalise by each rank's share).
BASE = {"backbone": "convnet", "channels": [8, 16], "batch_size": 16, "lr": 0.01, "progress": "off",
        "batch_norm": "frozen", "embedding_dim": 0, "seed": 3}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ranks(script: str, n: int, args, timeout_s: float = 60) -> list:
    """n processes of `script` as ranks of one run (n == 1: a plain process, no distributed env);
    args: a list, or a function of the rank giving one."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_PORT")}
    env["LOOKALIKE_DIST_TIMEOUT"] = str(timeout_s)
    if n > 1:
        env.update(WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_port()))
    return [subprocess.Popen([PY, str(HERE / script), *map(str, args(r) if callable(args) else args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(env, RANK=str(r)) if n > 1 else env)
            for r in range(n)]


def finish(procs: list, timeout: float = 240) -> list:
    outs = [p.communicate(timeout=timeout) for p in procs]
    return [(p.returncode, err) for p, (_, err) in zip(procs, outs)]


def train_ranks(n: int, out: Path, **opts) -> Path:
    res = finish(start_ranks("dist_worker.py", n, [out, json.dumps(dict(BASE, **opts))]))
    assert all(code == 0 for code, _ in res), res
    return out


def weights(out: Path) -> dict:
    return train.Model.load(out / "model.pt").state_dict()


def max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


def test_two_ranks_train_to_the_weights_of_one(tmp_path):
    one = weights(train_ranks(1, tmp_path / "one", epochs=3))
    two = weights(train_ranks(2, tmp_path / "two", epochs=3))
    assert max_diff(one, two) < 1e-4  # float sums in another order only
    moved = weights(train_ranks(1, tmp_path / "short", epochs=3, lr=0.02))
    assert max_diff(one, moved) > 1e-2  # the tolerance is far below what another run gives
    h1 = json.loads((tmp_path / "one" / "history.json").read_text())
    h2 = json.loads((tmp_path / "two" / "history.json").read_text())
    assert h2[-1]["ranks"] == 2 and "ranks" not in h1[-1]
    assert h2[-1]["train_loss"] == pytest.approx(h1[-1]["train_loss"], rel=1e-4)  # summed over ranks


@pytest.mark.parametrize("first,then", [(2, 1), (1, 2)])
def test_checkpoint_resumes_on_another_world_size(tmp_path, first, then):
    ck = tmp_path / "ck"
    train_ranks(first, tmp_path / "a", epochs=3, checkpoint_dir=str(ck), stop_after=1)
    resumed = weights(train_ranks(then, tmp_path / "b", epochs=3, checkpoint_dir=str(ck), resume=True))
    straight = weights(train_ranks(1, tmp_path / "c", epochs=3))
    assert max_diff(resumed, straight) < 1e-4
    hist = json.loads((tmp_path / "b" / "history.json").read_text())
    assert [h["epoch"] for h in hist] == [1, 2, 3]


def test_world_size_dependent_run_resumes_only_on_its_world_size(tmp_path):
    ck = tmp_path / "ck"
    opts = dict(epochs=3, checkpoint_dir=str(ck), filter="coteaching", forget_rate=0.2, num_gradual=1)
    train_ranks(2, tmp_path / "a", stop_after=1, **opts)
    (code, err), = finish(start_ranks("dist_worker.py", 1, [tmp_path / "b", json.dumps(dict(BASE, resume=True, **opts))]))
    assert code != 0 and "written by 2 processes" in err and "coteaching" in err and "WORLD_SIZE=2" in err


def test_a_dead_rank_fails_the_others_within_the_timeout_and_the_checkpoint_survives(tmp_path):
    ck = tmp_path / "ck"
    opts = dict(BASE, epochs=400, checkpoint_dir=str(ck))
    procs = start_ranks("dist_worker.py", 2, [tmp_path / "a", json.dumps(opts)], timeout_s=20)
    deadline = time.monotonic() + 120
    while not (ck / "checkpoint.pt").exists():
        assert time.monotonic() < deadline and procs[0].poll() is None, finish(procs)
        time.sleep(0.05)
    time.sleep(0.3)  # mid-epoch, a few epochs on
    procs[1].send_signal(signal.SIGKILL)
    t = time.monotonic()
    (code0, err0), (code1, _) = finish(procs, timeout=60)
    assert code1 == -signal.SIGKILL
    assert code0 != 0 and time.monotonic() - t < 40, err0
    assert "rank 0 of 2" in err0 and "peer process exited" in err0, err0[-2000:]
    # The last checkpoint is complete: a one-process run resumes from it to the end.
    resumed = train_ranks(1, tmp_path / "b", **dict(opts, epochs=400, resume=True, stop_after=10**6))
    hist = json.loads((resumed / "history.json").read_text())
    assert hist[-1]["epoch"] == 400


def test_ranks_that_disagree_on_options_fail_naming_them(tmp_path):
    procs = start_ranks("dist_worker.py", 2,
                        lambda r: [tmp_path / "a", json.dumps(dict(BASE, epochs=1, lr=0.01 if r == 0 else 0.5))])
    (c0, e0), (c1, e1) = finish(procs)
    assert c0 != 0 and c1 != 0
    assert "the training options differs between ranks" in e0 + e1 and '"lr":0.5' in e0 + e1


def test_launch_environment_errors_are_clear(monkeypatch):
    for bad, msg in [({"WORLD_SIZE": "2", "RANK": "2", "MASTER_PORT": "1"}, "RANK must be in"),
                     ({"WORLD_SIZE": "2", "RANK": "0"}, "needs MASTER_PORT"),
                     ({"WORLD_SIZE": "two"}, "WORLD_SIZE must be an integer"),
                     ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "70000"}, "MASTER_PORT must be a TCP port")]:
        for k in ("WORLD_SIZE", "RANK", "MASTER_PORT"):
            monkeypatch.delenv(k, raising=False)
        for k, v in bad.items():
            monkeypatch.setenv(k, v)
        with pytest.raises(ValueError, match=msg):
            dist.launch_info()


# -- sharded search ---------------------------------------------------------------------------
def search_ranks(n: int, out: Path, spec: str, k: int, params: dict = None) -> dict:
    res = finish(start_ranks("dist_search_worker.py", n, [out, spec, k, json.dumps(params or {})]))
    assert all(code == 0 for code, _ in res), res
    return torch.load(out / "result.pt")


def whole_index(spec: str, k: int, **params):
    sys.path.insert(0, str(HERE))
    from dist_search_worker import planted

    x, ids, q = planted()
    ix = index.Index(x.shape[1], spec)
    if not ix.is_trained:
        ix.train(x)
    ix.add(x, ids)
    exact = index.Index(x.shape[1], "Flat")
    exact.add(x, ids)
    return ix.search(q, k, **params), exact.search(q, k)


def recall(found: torch.Tensor, truth: torch.Tensor) -> float:
    return sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth)) / truth.numel()


@pytest.mark.parametrize("n", [2, 4])
def test_sharded_flat_search_returns_the_whole_index_ids(tmp_path, n):
    got = search_ranks(n, tmp_path / "s", "Flat", 10)
    (scores, ids), _ = whole_index("Flat", 10)
    assert torch.equal(got["ids"], ids)
    assert torch.allclose(got["scores"], scores, atol=1e-5)


@pytest.mark.parametrize("spec,params", [("IVF16,Flat", {"nprobe": 4}), ("HNSW16", {"ef_search": 32})])
def test_sharded_approximate_search_keeps_the_recall(tmp_path, spec, params):
    got = search_ranks(2, tmp_path / "s", spec, 10, params)
    (_, ids), (_, truth) = whole_index(spec, 10, **params)
    single, sharded = recall(ids, truth), recall(got["ids"], truth)
    assert sharded > 0.5  # an approximate search, not a broken one
    assert sharded == pytest.approx(single, abs=0.03), (single, sharded)
    print(f"{spec}: recall@10 single {single:.4f}, 2 shards {sharded:.4f}")


def test_merge_topk_by_hand():
    s1, i1 = torch.tensor([[0.9, 0.5]]), torch.tensor([[7, 3]])
    s2, i2 = torch.tensor([[0.5, float("-inf")]]), torch.tensor([[2, -1]])
    scores, ids = dist.merge_topk([s1, s2], [i1, i2], 4, "ip")
    assert ids.tolist() == [[7, 2, 3, -1]]  # 0.5 tie: the smaller id first; missing last
    scores, ids = dist.merge_topk([s1, s2], [i1, i2], 2, "l2")
    assert ids.tolist() == [[2, 3]] and scores.tolist() == [[0.5, 0.5]]


def test_shard_rows_split_by_id():
    ids = torch.tensor([5, 8, 3, 12, 7])
    assert [dist.shard_rows(ids, r, 3).tolist() for r in range(3)] == [[2, 3], [4], [0, 1]]


def test_a_shard_of_another_index_or_world_size_is_refused(tmp_path):
    search_ranks(2, tmp_path / "a", "Flat", 5)
    search_ranks(2, tmp_path / "b", "Flat", 5)
    with pytest.raises(OSError, match="were written by 2 ranks; this run has 1"):
        dist.load_shard(tmp_path / "a" / "shards")
    # b's items differ (another seed's planted set would too): a's rank 1 given b's shard file.
    (tmp_path / "b" / "shards.shards.json").unlink()
    os.replace(tmp_path / "b" / "shards.shard0-of-2", tmp_path / "a" / "shards.shard1-of-2")
    res = finish(start_ranks("dist_search_worker.py", 2, [tmp_path / "a", "Flat", 5, "{}", "load"]))
    assert res[1][0] != 0 and "is not shard 1 of" in res[1][1], res[1][1][-2000:]
