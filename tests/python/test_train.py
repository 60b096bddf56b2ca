import numpy as np
import pytest
import torch

import lookalike
from lookalike import train


def test_fit_embed_evaluate(small_set, tmp_path):
    x, y = small_set
    seen = []
    result = lookalike.fit(x[:640], y[:640], val=(x[640:], y[640:]), epochs=3, batch_size=32, lr=3e-3,
                           channels=[16, 32], embedding_dim=32, progress="off", seed=1,
                           log_path=str(tmp_path / "log.jsonl"), on_epoch=lambda r: seen.append(r))
    assert [h["epoch"] for h in result.history] == [1.0, 2.0, 3.0]
    assert len(seen) == 3 and seen[2]["val_accuracy"] == result.history[2]["val_accuracy"]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "items_per_second"} <= set(result.history[0])
    # 640 images, 60 steps: well above chance (0.1) and improving, not converged.
    assert result.history[2]["val_accuracy"] > 0.3
    assert result.history[2]["train_loss"] < result.history[0]["train_loss"]
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 3
    emb = lookalike.embed(result.model, x[640:], batch_size=50)
    assert emb.shape == (160, 32) and emb.dtype == torch.float32
    assert torch.allclose(emb.norm(dim=1), torch.ones(160), atol=1e-5)
    ev = result.model.evaluate(x[640:], y[640:])
    assert ev["accuracy"] == pytest.approx(result.history[2]["val_accuracy"], abs=1e-9)
    path = tmp_path / "model.pt"
    result.model.save(str(path))
    again = lookalike.Model.load(str(path))
    assert torch.equal(again.embed(x[:32]), result.model.embed(x[:32]))
    assert again.options["embedding_dim"] == 32


def test_fit_accepts_numpy(small_set):
    x, y = small_set
    r = lookalike.fit(x[:128].numpy(), y[:128].numpy(), epochs=1, batch_size=32, channels=[8],
                      embedding_dim=8, progress="off")
    assert len(r.history) == 1


def test_early_stop_from_callback(small_set):
    x, y = small_set
    r = lookalike.fit(x[:128], y[:128], epochs=5, batch_size=32, channels=[8], embedding_dim=8,
                      progress="off", on_epoch=lambda rec: rec["epoch"] < 2)
    assert len(r.history) == 2


def test_bad_input(small_set):
    x, y = small_set
    with pytest.raises(ValueError, match=r"unknown option .* \(TrainOptions\); known: epochs"):
        lookalike.fit(x, y, epochz=1)
    with pytest.raises(ValueError, match="lengths must match"):
        lookalike.fit(x[:10], y[:9], epochs=1)
    with pytest.raises(ValueError, match="4-d"):
        lookalike.fit(x[:, 0], y, epochs=1)
    with pytest.raises(ValueError, match="dtype|uint8 or float32"):
        lookalike.fit(x.double(), y, epochs=1)
    with pytest.raises(ValueError, match="optimizer"):
        lookalike.fit(x, y, optimizer="lamb")
    with pytest.raises(ValueError, match="device"):
        lookalike.fit(x, y, device="tpu")
    with pytest.raises(ValueError, match="not a mix"):
        lookalike.fit(x, y.numpy())
    nan = x[:8].float() / 255
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        lookalike.fit(nan, y[:8], epochs=1)


def test_default_options_are_the_core_defaults():
    d = train.default_options()
    assert d["optimizer"] == "adam" and d["channels"] == [32, 64, 128]
    o = train.make_options(**d)
    assert o.model.embedding_dim == d["embedding_dim"]


def _changed(before, after, prefix):
    keys = [k for k in after if k.startswith(prefix) and not k.endswith("num_batches_tracked")]
    return {k: not torch.equal(before[k], after[k]) for k in keys}


@pytest.mark.parametrize("case", ["frozen", "first_stage", "zero_backbone_lr", "warmup", "frozen_bn"])
def test_fine_tuning_controls(small_set, case):
    x, y = small_set
    kw = dict(epochs=2, batch_size=64, lr=3e-3, channels=[8, 16], embedding_dim=16, progress="off",
              seed=5, optimizer="sgd")
    kw.update({"frozen": dict(freeze_stages=-1), "first_stage": dict(freeze_stages=1),
               "zero_backbone_lr": dict(backbone_lr_factor=0.0),
               "warmup": dict(head_warmup_epochs=1), "frozen_bn": dict(batch_norm="frozen")}[case])
    torch.manual_seed(5)  # the Trainer seeds its first network with `seed`: the same start
    start = train.network(channels=[8, 16], embedding_dim=16, in_channels=1, num_classes=10)
    before = start.state_dict()
    after = lookalike.fit(x[:256], y[:256], **kw).model.state_dict()
    stage0 = _changed(before, after, "backbone.features.0.")
    stage0.update(_changed(before, after, "backbone.features.1."))  # conv 0 and its batch norm
    stage1 = _changed(before, after, "backbone.features.4.")        # after the max-pool
    stage1.update(_changed(before, after, "backbone.features.5."))
    head = _changed(before, after, "head.")
    assert all(head.values())
    if case == "frozen":  # weights and batch-norm statistics untouched
        assert not any(stage0.values()) and not any(stage1.values())
    elif case == "first_stage":
        assert not any(stage0.values()) and all(stage1.values())
    elif case == "zero_backbone_lr":  # no weight moves, but batch norm still learns statistics
        assert not stage0["backbone.features.0.weight"] and not stage1["backbone.features.5.weight"]
        assert stage0["backbone.features.1.running_mean"] and stage1["backbone.features.5.running_var"]
    elif case == "frozen_bn":  # weights and BN scale/shift learn, running statistics do not
        for stage in (stage0, stage1):
            assert all(v for k, v in stage.items() if not k.endswith(("running_mean", "running_var")))
            assert not any(v for k, v in stage.items() if k.endswith(("running_mean", "running_var")))
    else:  # the head alone in epoch 1, everything in epoch 2
        assert all(stage0.values()) and all(stage1.values())


def test_fine_tuning_bad_options(small_set):
    x, y = small_set
    with pytest.raises(ValueError, match="2 stages"):
        lookalike.fit(x[:64], y[:64], epochs=1, channels=[8, 16], freeze_stages=3, progress="off")
    with pytest.raises(ValueError, match="convnet backbone only"):
        lookalike.fit(x[:64], y[:64], epochs=1, backbone="resnet20", channels=[8], progress="off")
    with pytest.raises(ValueError, match="unknown backbone 'resnet9'"):
        lookalike.fit(x[:64], y[:64], epochs=1, backbone="resnet9", progress="off")
    with pytest.raises(ValueError, match="batch_norm must be 'auto', 'train' or 'frozen'"):
        lookalike.fit(x[:64], y[:64], epochs=1, batch_norm="eval", progress="off")
    with pytest.raises(ValueError, match="head_warmup_epochs"):
        lookalike.fit(x[:64], y[:64], epochs=1, head_warmup_epochs=1, progress="off")
    with pytest.raises(ValueError, match="at least 32 x 32"):  # 28 x 28 images into MobileNetV2
        lookalike.fit(x[:64], y[:64], epochs=1, backbone="mobilenet_v2", progress="off")
