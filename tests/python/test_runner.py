import json
import os
import subprocess
import sys

import pytest

from lookalike import config, runner

from conftest import ROOT

CONFIG = str(ROOT / "experiments" / "fmnist_baseline.yaml")
SMALL = ["data.train_limit=600", "data.test_limit=300", "train.epochs=1", "train.channels=[8, 16]",
         "train.embedding_dim=16", "plots.embedding_points=200", "train.progress='off'"]


def test_run_writes_metrics_json_and_plots(tmp_path):
    payload = runner.run(CONFIG, SMALL, out=str(tmp_path))
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["study"] == "fmnist_baseline" and written["seed"] == 0
    assert written["config"]["train"]["epochs"] == 1
    assert written["versions"]["torch"]
    m = written["metrics"]
    assert 0.0 <= m["test_accuracy"] <= 1.0
    assert set(m["retrieval_test_vs_test"]) >= {"precision_at_1", "recall_at_1", "recall_at_10", "r_precision", "map_at_r"}
    assert written["sizes"] == {"train": 570, "val": 30, "test": 300}
    for name in ("training_curves.png", "embeddings_pca.png", "model.pt", "train_log.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
    assert payload["metrics"] == written["metrics"]
    assert not [p for p in os.listdir(tmp_path) if ".tmp." in p]


def test_unknown_keys_and_bad_types_are_errors():
    with pytest.raises(config.ConfigError, match="unknown config key 'train.epochz'"):
        runner.resolve(CONFIG, ["train.epochz=3"])
    with pytest.raises(config.ConfigError, match="unknown config key 'colour'"):
        runner.resolve(CONFIG, ["colour=blue"])
    with pytest.raises(config.ConfigError, match="must be an integer"):
        runner.resolve(CONFIG, ["train.epochs=many"])
    with pytest.raises(config.ConfigError, match="does not exist"):
        runner.resolve("nowhere.yaml")
    cfg = runner.resolve(CONFIG, ["eval.k=[1, 5]"])
    assert cfg["eval"]["k"] == [1, 5]


def test_cli_rejects_unknown_key_without_writing(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lookalike", "run", CONFIG, "--set", "train.nope=1",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "unknown config key 'train.nope'" in proc.stderr
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_failed_run_leaves_previous_results_intact(tmp_path):
    (tmp_path / "metrics.json").write_text('{"previous": true}')
    with pytest.raises(ValueError):
        runner.run(CONFIG, SMALL + ["train.optimizer=lamb"], out=str(tmp_path))
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"previous": True}


SMALL_NOISY = ["data.train_limit=400", "data.test_limit=200", "seeds=[0]", "train.epochs=2",
               "train.channels=[8,16]", "train.embedding_dim=16", "train.batch_size=50", "train.num_gradual=1",
               "train.cl_epochs=1", "train.cl_folds=2", "train.coteaching_plus_init_epoch=1",
               "detection.folds=2", "detection.epochs=1", "train.progress='off'",
               "noise=[{kind: symmetric, rate: 0.5}, {kind: pairflip, rate: 0.45}]"]


def test_noisy_study_small_setting(tmp_path):
    from lookalike import runner

    out = runner.run(str(ROOT / "experiments" / "noisy_fmnist.yaml"), SMALL_NOISY, out=str(tmp_path))
    table = out["metrics"]["table"]
    assert {(r["noise"], r["strategy"]) for r in table} == {
        (n, s) for n in ("symmetric-50", "pairflip-45")
        for s in ("none", "small_loss", "coteaching", "coteaching_plus", "jocor", "loss_history", "confident_learning")}
    for r in table:
        assert 0 <= r["last"]["mean"] <= r["best"]["mean"] <= 1 and r["seconds"]["mean"] > 0
        assert 0 <= r["final_label_precision"]["mean"] <= 1
    for run in out["runs"]:
        assert len(run["accuracy_curve"]) == 2 and abs(run["realised_noise"] - float(run["noise"].split("-")[1]) / 100) < 0.02
    det = out["metrics"]["detection"]
    assert len(det) == 8 and all(0 <= d["precision"] <= 1 and 0 <= d["recall"] <= 1 for d in det)
    assert out["metrics"]["clean"]["last"]["n"] == 1
    report = (tmp_path / "report.md").read_text()
    assert "| coteaching |" in report and "Label-issue detection" in report
    for name in ("metrics.json", "accuracy_curves.png", "label_precision.png"):
        assert (tmp_path / name).stat().st_size > 0


SMALL_DETECTION = ["data.train_limit=600", "data.test_limit=100", "detection.epochs=1", "detection.folds=2",
                   "detection.train={channels: [8, 16], embedding_dim: 16, lr: 0.003}", "train.progress='off'"]


def test_detection_only_study_trains_its_own_fold_models(tmp_path):
    from lookalike import noisy
    from lookalike.studies import noisy_labels

    cfg_path = str(ROOT / "experiments" / "label_issues_fmnist.yaml")
    out = runner.run(cfg_path, SMALL_DETECTION, out=str(tmp_path))
    assert out["runs"] == [] and out["clean_runs"] == [] and out["metrics"]["table"] == []
    det = out["metrics"]["detection"]
    assert [d["filter_by"] for d in det] == ["prune_by_noise_rate", "prune_by_class", "both", "confident_learning"]
    # The same detection computed directly, with the fold-model options of detection.train.
    cfg = runner.resolve(cfg_path, SMALL_DETECTION)
    x, y, _, _, _ = noisy_labels.load(cfg)
    noisy_y, corrupted, _, _ = noisy.inject_noise(y, kind="symmetric", rate=0.2, num_classes=10, seed=0)
    probs = noisy.cross_val_pred_probs(x, noisy_y, folds=2, seed=0, epochs=1, batch_size=128, optimizer="adam",
                                       lr=0.003, schedule="cosine", channels=[8, 16], embedding_dim=16,
                                       num_classes=10, progress="off")
    for d in det:
        issues = noisy.find_label_issues(noisy_y, probs, filter_by=d["filter_by"])
        assert d["flagged"] == int(issues.sum()) and d["corrupted"] == int(corrupted.sum()) == 120
        assert d["precision"] == pytest.approx(int((issues & corrupted).sum()) / max(int(issues.sum()), 1))
        assert d["fold_accuracy_true_labels"] == pytest.approx(float((probs.argmax(1) == y).double().mean()))
    report = (tmp_path / "report.md").read_text()
    assert "channels [8, 16], lr 0.003" in report and "| symmetric-20 | both |" in report
    assert "label_precision.png" not in report and not (tmp_path / "label_precision.png").exists()
    with pytest.raises(ValueError, match="detection.epochs"):
        runner.run(cfg_path, SMALL_DETECTION + ["detection.train={epochs: 3}"], out=str(tmp_path / "bad"))
    with pytest.raises(ValueError, match=r"unknown option .* \(TrainOptions\); known: epochs"):
        runner.run(cfg_path, SMALL_DETECTION + ["detection.train={chanels: [8]}"], out=str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="nothing to run"):
        runner.run({"study": "noisy_labels", "strategies": [], "clean_reference": False, "detection": {"enabled": False}},
                   out=str(tmp_path / "bad"))
    # A detection option while detection is off would be ignored: an error naming it.
    with pytest.raises(ValueError, match="'detection.folds' = 2 does not apply here: .* detection.enabled"):
        runner.run(cfg_path, SMALL_DETECTION + ["detection.enabled=false"], out=str(tmp_path / "bad"))
