"""The regression gate: expectations file checks, metric paths, verdicts on planted payloads and
benchmark JSON, the band rule by hand, the history file, and the CLI end to end on a tiny real
run (a band the run cannot meet fails with the table; exit status 1)."""
import json
import subprocess
import sys

import pytest

from lookalike import runner
from lookalike.config import ConfigError
from lookalike.gate import check, expected, history

from conftest import ROOT

EXPECTED = ROOT / "experiments" / "expected.yaml"


def _write(tmp_path, text, name="expected.yaml"):
    (tmp_path / "experiments").mkdir(exist_ok=True)
    p = tmp_path / "experiments" / name
    p.write_text(text)
    return p


def test_lookup_keys_indices_and_selectors():
    payload = {"metrics": {"a": {"10": 0.5}, "rows": [{"noise": "sym-50", "s": "none", "acc": 0.3},
                                                       {"noise": "sym-50", "s": "cl", "acc": 0.6}]}}
    assert expected.lookup(payload, "metrics.a.10") == 0.5
    assert expected.lookup(payload, "metrics.rows.1.acc") == 0.6
    assert expected.lookup(payload, "metrics.rows[noise=sym-50,s=cl].acc") == 0.6
    with pytest.raises(KeyError, match="'metrics.b' not found"):
        expected.lookup(payload, "metrics.b")
    with pytest.raises(KeyError, match="2 elements match"):
        expected.lookup(payload, "metrics.rows[noise=sym-50].acc")
    with pytest.raises(KeyError, match="index 5 out of range"):
        expected.lookup(payload, "metrics.rows.5")


def test_load_rejects_malformed_files(tmp_path):
    (tmp_path / "c.yaml").write_text("study: x\n")
    good = "studies:\n  a: {config: c.yaml, metrics: {m: {band: [0, 1]}}}\n"
    spec = expected.load(str(_write(tmp_path, good)))
    assert spec.studies[0].seeds == [0] and spec.studies[0].metrics[0].band == (0.0, 1.0)
    bad = {
        "studies:\n  a: {config: c.yaml, metrics: {m: {band: [0, 1]}}, seed: 3}\n": "unknown key",
        "studies:\n  a: {config: nope.yaml, metrics: {m: {band: [0, 1]}}}\n": "does not exist",
        "studies:\n  a: {config: c.yaml, metrics: {m: {band: [1, 0]}}}\n": "lo 1.0 > hi 0.0",
        "studies:\n  a: {config: c.yaml, metrics: {m: {band: [0, .nan]}}}\n": "finite number",
        "studies:\n  a: {config: c.yaml, metrics: {}}\n": "non-empty mapping",
        "speed:\n  a: {script: c.yaml, ratios: {r: {measured: 2}}}\n": "needs min and/or max",
        "studies:\n  a: {config: c.yaml, metrics: {m: {band: [0, 1]}}}\nspeed:\n  a: {script: c.yaml, ratios: {r: {min: 1}}}\n":
            "used twice",
        "colour: blue\n": "unknown key",
    }
    for text, message in bad.items():
        with pytest.raises(ConfigError, match=message):
            expected.load(str(_write(tmp_path, text)))
    with pytest.raises(ConfigError, match="no entry named"):
        spec.select(False, ["b"])


def test_verdicts_on_planted_payloads(tmp_path):
    (tmp_path / "c.yaml").write_text("study: x\n")
    spec = expected.load(str(_write(tmp_path, """
studies:
  a: {config: c.yaml, seeds: [0, 1], metrics: {m.acc: {band: [0.5, 0.7]}, m.map: {band: [0.2, 0.3]}, m.gone: {band: [0, 1]},
      m.nan: {band: [0, 1]}}}
  b: {config: c.yaml, metrics: {m.acc: {band: [0, 1]}}}
""")))
    planted = {0: {"m": {"acc": 0.6, "map": 0.1, "nan": float("nan")}}, 1: {"m": {"acc": 0.7, "map": 0.1, "nan": 1.0}}}

    def fake(entry, seed, root, out):
        if entry.name == "b":
            raise RuntimeError("disk full")
        return planted[seed]

    rows = check.check_studies(spec.studies, tmp_path, tmp_path, run=fake, log=lambda s: None)
    got = {(r.entry, r.metric): r for r in rows}
    assert got[("a", "m.acc")].verdict == "ok" and got[("a", "m.acc")].measured == pytest.approx(0.65)  # seeds' mean
    assert got[("a", "m.map")].verdict == "FAIL" and got[("a", "m.map")].detail == "below the band"
    assert got[("a", "m.gone")].verdict == "FAIL" and "missing" in got[("a", "m.gone")].detail
    assert got[("a", "m.nan")].verdict == "FAIL" and "finite" in got[("a", "m.nan")].detail
    assert got[("b", "m.acc")].verdict == "FAIL" and "disk full" in got[("b", "m.acc")].detail
    text = check.table(rows)
    assert "1 ok, 4 FAIL" in text and "FAIL (below the band)" in text


def test_ratio_bounds(tmp_path):
    (tmp_path / "s.py").write_text("")
    spec = expected.load(str(_write(tmp_path, """
speed:
  k: {script: s.py, ratios: {k.10.fused_over_faiss: {min: 1.2}, overhead: {max: 1.1}, both: {min: 0.9, max: 1.1}}}
""")))
    for data, verdicts in [({"k": {"10": {"fused_over_faiss": 1.3}}, "overhead": 1.05, "both": 1.0}, ["ok"] * 3),
                           ({"k": {"10": {"fused_over_faiss": 1.1}}, "overhead": 1.2, "both": 1.2}, ["FAIL"] * 3)]:
        rows = check.check_speed(spec.speed, tmp_path, tmp_path, run=lambda e, r, o: data, log=lambda s: None)
        assert [r.verdict for r in rows] == verdicts
    assert [r.expected for r in rows] == [">= 1.2", "<= 1.1", ">= 0.9, <= 1.1"]


def test_band_rule_by_hand():
    # mean 0.52, sample sd 0.02: 3 sd = 0.06 > floor 0.01
    assert check.band_rule([0.50, 0.52, 0.54]) == pytest.approx([0.46, 0.58])
    # identical seeds (a deterministic metric): the floor, relative above 1
    assert check.band_rule([0.8, 0.8]) == pytest.approx([0.79, 0.81])
    assert check.band_rule([200.0, 200.0]) == pytest.approx([198.0, 202.0])
    # a check averaging 4 seeds: 3 sd / sqrt(4) = 0.03, not widened to the single seeds
    assert check.band_rule([0.50, 0.52, 0.54], n=4) == pytest.approx([0.49, 0.55])


def test_history_appends_and_reads_back(tmp_path):
    f = str(tmp_path / "h" / "history.jsonl")
    for i, v in enumerate([0.5, 0.6]):
        history.append(f, {"time": f"t{i}", "commit": {"sha": f"abc{i}", "dirty": i == 1}, "quick": True, "file": "e",
                           "total_s": 1.0, "failed": 0,
                           "rows": [{"kind": "metric", "entry": "a", "metric": "m", "measured": v, "verdict": "ok",
                                     "expected": "[0, 1]", "detail": ""}]})
    runs = history.load(f)
    assert [r["commit"]["sha"] for r in runs] == ["abc0", "abc1"]
    assert history.series(runs) == {"a/m": [0.5, 0.6]}
    assert "abc1+" in history.text(runs)
    history.plot(runs, str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").stat().st_size > 0
    with open(f, "a") as fh:
        fh.write("{half")
    with pytest.raises(ValueError, match="line 3 is not JSON"):
        history.load(f)


def test_checked_in_expectations_resolve():
    """Every entry of experiments/expected.yaml names a config that resolves with its overrides,
    and there is a quick form (the one make test runs)."""
    spec = expected.load(str(EXPECTED))
    for e in spec.studies:
        runner.resolve(str(ROOT / e.config), e.sets)
        assert all(m.seeds.get("n", 0) >= 3 for m in e.metrics), f"{e.name}: bands not calibrated over >= 3 seeds"
    quick = spec.select(True)
    assert quick.studies and quick.speed


def test_cli_fails_with_the_table_on_a_band_the_run_cannot_meet(tmp_path):
    """A real tiny run: the accuracy band [0.99, 1] cannot be met by one epoch on 600 images, a
    ratio minimum of 10^9 cannot be met by the kNN benchmark; both FAIL, exit 1, history kept."""
    text = f"""
studies:
  tiny:
    config: {ROOT}/experiments/fmnist_baseline.yaml
    set: [data.train_limit=600, data.test_limit=300, train.epochs=1, "train.channels=[8, 16]", train.embedding_dim=16,
          plots.embedding_points=100, "train.progress='off'"]
    metrics:
      metrics.test_accuracy: {{band: [0.99, 1.0]}}
      metrics.retrieval_test_vs_test.map_at_r: {{band: [0.0, 1.0]}}
speed:
  knn:
    script: {ROOT}/experiments/benchmarks/knn_throughput.py
    args: [--nq, "200", --nb, "2000", --k, "10", --reps, "1"]
    ratios: {{k.10.ratio_fused_over_faiss: {{min: 1000000000}}, k.10.identical_ids: {{min: 0.99}}}}
"""
    p = _write(tmp_path, text)
    hist = tmp_path / "history.jsonl"
    proc = subprocess.run([sys.executable, "-m", "lookalike", "check", str(p), "--out", str(tmp_path / "out"),
                           "--history", str(hist)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = {ln.split()[1]: ln for ln in proc.stdout.splitlines() if ln.startswith(("tiny", "knn"))}
    assert "FAIL (below the band)" in lines["metrics.test_accuracy"]
    assert lines["metrics.retrieval_test_vs_test.map_at_r"].rstrip().endswith("ok")
    assert "FAIL (out of bounds)" in lines["k.10.ratio_fused_over_faiss"]
    assert lines["k.10.identical_ids"].rstrip().endswith("ok")
    assert "2 ok, 2 FAIL" in proc.stdout
    saved = json.loads((tmp_path / "out" / "check.json").read_text())
    assert saved["failed"] == 2 and len(history.load(str(hist))) == 1
    shown = subprocess.run([sys.executable, "-m", "lookalike", "history", "--file", str(hist), "--metric", "map_at_r"],
                           capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0 and "tiny/metrics.retrieval_test_vs_test.map_at_r" in shown.stdout


def test_u_test_by_hand_and_compare_on_planted_timings(tmp_path):
    from lookalike.gate import compare

    # Fully separated samples of 5: U = 0, exact two-sided p = 2 / C(10, 5) = 2 / 252
    r = compare.u_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert r["p"] == pytest.approx(2 / 252) and r["differs"] and r["change"] == pytest.approx((8 - 3) / 3)  # medians
    assert not compare.u_test([1, 3, 5, 7, 9], [2, 4, 6, 8, 10])["differs"]
    with pytest.raises(ValueError, match=">= 2 samples"):
        compare.u_test([1], [2, 3])
    (tmp_path / "s.py").write_text("")
    spec = expected.load(str(_write(tmp_path, "speed:\n  k: {script: s.py, ratios: {r: {min: 1}}, compare: [t]}\n")))
    calls = []

    def fake(tree, entry):  # the head is 20 % slower on t, same ratio
        calls.append(tree.name)
        i = len(calls)
        return {"r": 1.5 + 0.01 * (i % 3), "t": (1.2 if tree.name == "head" else 1.0) + 0.001 * i}

    rows = compare.compare(tmp_path / "head", tmp_path / "base", spec.speed, reps=5, run=fake, log=lambda s: None)
    assert calls[:4] == ["base", "head", "base", "head"]  # alternating
    got = {r["path"]: r for r in rows}
    assert got["t"]["differs"] and got["t"]["change"] == pytest.approx(0.2, abs=0.01)
    assert not got["r"]["differs"]
    assert "differs" in compare.table(rows)
