"""The visual_search study at a tiny setting: the class split holds, the untrained models' figures
equal an independent computation (NumPy metrics on embeddings made here), the loss table reuses
one budget, and bad configs fail before anything runs."""
import json
import os

import numpy as np
import pytest
import torch

import lookalike
from lookalike import config, data, runner, train
from conftest import ROOT
from reference_metrics import retrieval_metrics as numpy_metrics

GROCERY = lookalike._core.data.shared_data_dir("grocery-store")
PRETRAINED = lookalike._core.data.shared_data_dir("pretrained")
pytestmark = pytest.mark.skipif(not GROCERY or not PRETRAINED, reason="grocery-store or pretrained weights missing")
CONFIG = str(ROOT / "experiments" / "visual_search.yaml")
WEIGHTS = "{pretrained}/mobilenet_v2_1.0_224_quant.tflite"
TINY = ["data.image_size=40", "data.max_per_class=3", "data.val_fraction=0", "train.epochs=1",
        "train.batch_size=16", "train.samples_per_class=2"]


def _models(*names):
    every = {
        "convnet_scratch": {"name": "convnet_scratch", "net": {"backbone": "convnet", "channels": [8, 16],
                                                                "embedding_dim": 16}, "train": {"lr": 0.001}},
        "mobilenet_frozen": {"name": "mobilenet_frozen", "net": {"backbone": "mobilenet_v2", "weights": WEIGHTS,
                                                                  "embedding_dim": 0}, "train": None},
        "mobilenet_finetuned": {"name": "mobilenet_finetuned", "net": {"backbone": "mobilenet_v2", "weights": WEIGHTS,
                                                                        "embedding_dim": 0},
                                "train": {"freeze_stages": 7}},
    }
    return [every[n] for n in names]


def _cfg(**changes):
    cfg = config.load_yaml(CONFIG)
    cfg["models"] = _models("convnet_scratch", "mobilenet_frozen", "mobilenet_finetuned")
    cfg["loss_table"]["losses"] = ["multi_similarity", "cross_entropy"]
    cfg.update(changes)
    return cfg


def test_grocery_run_split_and_figures(tmp_path):
    m = runner.run(_cfg(), TINY, out=str(tmp_path))
    train_cls, test_cls = m["classes"]["train"], m["classes"]["test"]
    assert not set(train_cls) & set(test_cls) and len(train_cls) + len(test_cls) == 81
    s = m["sizes"]
    assert s["test"] <= 3 * s["test_classes"] and s["catalogue"] == 81
    # the loss table's multi_similarity row is the fine-tuned model itself (same options): trained once
    assert m["metrics"]["loss:multi_similarity"]["same_as"] == "mobilenet_finetuned"
    assert "same_as" not in m["metrics"]["loss:cross_entropy"]
    assert set(m["histories"]) >= {"convnet_scratch", "mobilenet_finetuned", "loss:cross_entropy"}
    for f in ("report.md", "models.png", "losses.png", "metrics.json"):
        assert (tmp_path / f).exists(), f
    assert "| mobilenet_frozen |" in (tmp_path / "report.md").read_text()

    # The frozen model's figures, recomputed here: the same photos read and split by hand.
    test = data.image_set("grocery", split="test", image_size=40, max_per_class=3)
    cat = data.image_set("grocery", split="iconic", image_size=40)
    keep = [i for i, y in enumerate(test.labels.tolist()) if test.class_names[y] in set(test_cls)]
    net = train.network(backbone="mobilenet_v2", in_channels=3, weights=WEIGHTS, embedding_dim=0)
    q = net.embed(test.images[keep]).numpy()
    ql = test.labels[keep].numpy()
    want = numpy_metrics(q, ql, ks=(1, 10))
    got = m["metrics"]["mobilenet_frozen"]
    for key in ("precision_at_1", "recall_at_10", "r_precision", "map_at_r"):
        assert got["retrieval"][key] == pytest.approx(want[key], abs=1e-6), key
    c = net.embed(cat.images).numpy()
    top1 = cat.labels.numpy()[np.argmax(q @ c.T, axis=1)]
    assert got["catalogue_unseen"]["recall_at_1"] == pytest.approx(float(np.mean(top1 == ql)), abs=1e-9)
    assert got["train_s"] == 0 and not got["trained"]


def test_folder_set_with_reshot_instances(tmp_path):
    cfg = _cfg(models=_models("mobilenet_frozen"))
    cfg["loss_table"] = {"enabled": False}
    cfg["data"].update({"set": "folder", "root": os.path.join(GROCERY, "dataset", "test", "Packages")})
    cfg["data"].pop("train_split"), cfg["data"].pop("test_split"), cfg.pop("catalogue")
    cfg["instance"] = {"enabled": True, "k": [1, 10]}
    m = runner.run(cfg, TINY, out=str(tmp_path))
    inst = m["metrics"]["mobilenet_frozen"]["instance"]
    n = m["sizes"]["test"]
    assert inst["num_queries"] == n and "catalogue_unseen" not in m["metrics"]["mobilenet_frozen"]
    # A re-shot photo finds its own original far above chance (1/n) with ImageNet features.
    assert inst["recall_at_1"] > 10.0 / n and inst["recall_at_10"] >= inst["recall_at_1"]


@pytest.mark.parametrize("change, message", [
    (lambda c: c["models"].append(dict(c["models"][0])), "used twice"),
    (lambda c: c["models"][0]["net"].update(colour="red"), "unknown keys \\['colour'\\]"),
    (lambda c: c["models"][0]["train"].update(lr=-1.0), "lr must be positive"),
    (lambda c: c["loss_table"].update(model="mobilenet_frozen"), "must be a trained model"),
    (lambda c: c["loss_table"].update(losses=["nope"]), "nope"),
    (lambda c: c.setdefault("instance", {}).update(k=[5]), "instance.enabled"),
    (lambda c: c["data"].update(set="folder", root="/tmp", train_split="val"), "data.set is grocery"),
])
def test_bad_configs_fail_before_running(change, message):
    cfg = _cfg()
    change(cfg)
    with pytest.raises((ValueError, config.ConfigError), match=message):
        runner.resolve(cfg)
