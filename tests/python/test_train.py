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
