"""Pretrained weights loaded in C++ (TFLite, Keras HDF5, torch.save state_dict), checked against
independent readers: Python's flatbuffers and h5py, NumPy convolutions, torch.save itself."""
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lookalike
from lookalike import train

from conftest import ROOT

PRETRAINED = ROOT.parent / "shared" / "data" / "pretrained"
TFLITE = PRETRAINED / "mobilenet_v2_1.0_224_quant.tflite"
RESNET8 = PRETRAINED / "resnet8_cifar10.h5"
GROCERY = ROOT.parent / "shared" / "data" / "grocery-store" / "dataset"
needs_weights = pytest.mark.skipif(not TFLITE.exists() or not RESNET8.exists(),
                                   reason="../shared/data/pretrained not present")


# --- TFLite, read with Python's flatbuffers (a second reader of the same file) -------------------
def _tflite_first_conv(path: Path):
    """The first operator's weight tensor: (uint8 values [O, kh, kw, I], scale, zero point)."""
    from flatbuffers import table, encode, packer
    buf = bytearray(path.read_bytes())
    model = table.Table(buf, encode.Get(packer.uoffset, buf, 0))

    def tables(t, slot):
        o = t.Offset(slot)
        start, n = t.Vector(o), t.VectorLen(o)
        return [table.Table(buf, t.Indirect(start + 4 * i)) for i in range(n)]

    def scalars(t, slot, fmt):
        o = t.Offset(slot)
        n = t.VectorLen(o)
        return struct.unpack_from(f"<{n}{fmt}", buf, t.Vector(o))

    def scalar(t, slot, fmt):
        o = t.Offset(slot)
        return struct.unpack_from(f"<{fmt}", buf, t.Pos + o)[0] if o else 0

    graph = tables(model, 8)[0]             # Model.subgraphs
    op = tables(graph, 10)[0]               # SubGraph.operators
    tensor = tables(graph, 4)[scalars(op, 6, "i")[1]]  # Operator.inputs[1]: the weights
    shape = scalars(tensor, 4, "i")
    buffer = tables(model, 12)[scalar(tensor, 8, "I")]  # Model.buffers[Tensor.buffer]
    data = np.frombuffer(bytes(scalars(buffer, 4, "B")), np.uint8).reshape(shape)
    q = table.Table(buf, tensor.Indirect(tensor.Pos + tensor.Offset(12)))  # quantization
    return data, scalars(q, 8, "f")[0], scalars(q, 10, "q")[0]


@needs_weights
def test_tflite_first_conv_is_dequantised_file_values():
    m = train.network(backbone="mobilenet_v2", in_channels=3, embedding_dim=0, num_classes=1001,
                      weights=str(TFLITE))
    q, scale, zero = _tflite_first_conv(TFLITE)
    want = (q.astype(np.float64) - zero) * scale            # [O, kh, kw, I]
    got = m.state_dict()["backbone.features.0.0.weight"]    # [O, I, kh, kw]
    np.testing.assert_allclose(got.permute(0, 2, 3, 1).numpy(), want, rtol=1e-6, atol=1e-7)
    # Batch norm folded into the file's bias: the network's batch norms are the identity + bias.
    sd = m.state_dict()
    assert torch.all(sd["backbone.features.0.1.weight"] == 1)
    assert torch.all(sd["backbone.features.0.1.running_mean"] == 0)
    # Input quantisation (q - 128) * 1/128 with q = 255 p: mean = std = 128/255.
    assert torch.allclose(sd["input_mean"], torch.full((3,), 128 / 255))


# Grocery classes that are ImageNet classes (index in the 1,001-class head: background first).
IMAGENET = {"Granny-Smith": 949, "Banana": 955, "Lemon": 952, "Orange": 951, "Pineapple": 954,
            "Pomegranate": 958, "Cucumber": 944, "Brown-Cap-Mushroom": 948, "Red-Bell-Pepper": 946,
            "Green-Bell-Pepper": 946, "Zucchini": 940, "Cabbage": 937}


@needs_weights
@pytest.mark.skipif(not GROCERY.exists(), reason="grocery-store not present")
def test_tflite_mobilenet_recognises_imagenet_products():
    rows = [line.split(", ") for line in (GROCERY / "test.txt").read_text().splitlines()]
    picked = {}
    for path, *_ in rows:  # five photos per class, spread over the class's photos
        picked.setdefault(Path(path).parent.name, []).append(path)
    paths, labels = [], []
    for name, cls in IMAGENET.items():
        ps = picked[name]
        for p in ps[:: max(1, len(ps) // 5)][:5]:
            paths.append(str(GROCERY / p)), labels.append(cls)
    images, kept = lookalike.data.decode_images(paths, 224)
    assert kept == list(range(len(paths)))
    m = train.network(backbone="mobilenet_v2", in_channels=3, embedding_dim=0, num_classes=1001,
                      weights=str(TFLITE))
    top5 = m.predict(images, batch_size=30).topk(5, dim=1).indices
    hit5 = (top5 == torch.tensor(labels)[:, None]).any(1).float().mean().item()
    # Chance is 5 / 1001; the full test-split figure is in the README (experiments).
    assert hit5 >= 0.7, hit5


def test_weights_bad_files(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(OSError, match="none of the formats"):
        train.network(backbone="mobilenet_v2", in_channels=3, weights=str(bad))
    with pytest.raises(OSError, match="does not exist"):
        train.network(backbone="mobilenet_v2", in_channels=3, weights=str(tmp_path / "none.pt"))
    if TFLITE.exists():
        cut = tmp_path / "cut.tflite"
        cut.write_bytes(TFLITE.read_bytes()[:200_000])
        with pytest.raises(OSError, match="not a valid TFLite"):
            train.network(backbone="mobilenet_v2", in_channels=3, weights=str(cut))
        with pytest.raises(ValueError, match="convolution"):  # the wrong backbone for the file
            train.network(backbone="resnet18", in_channels=3, weights=str(TFLITE))


# --- Keras HDF5 -----------------------------------------------------------------------------------
def _keras_file(path: Path, layers):
    """A Keras-layout weights file: model_weights/<layer>/<layer>/<weight>:0, layer_names and
    weight_names attributes as Keras writes them."""
    import h5py
    with h5py.File(path, "w") as f:
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
        for name, weights in layers:
            lg = g.create_group(name)
            lg.attrs["weight_names"] = np.array([f"{name}/{w}:0".encode() for w in weights])
            for w, value in weights.items():
                lg.create_dataset(f"{name}/{w}:0", data=value.astype(np.float32))


def _conv_numpy(x, w_hwio, pad):
    """x [C, H, W], kernel [kh, kw, I, O], stride 1, zero padding `pad`: [O, H', W']."""
    kh, kw = w_hwio.shape[:2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    H, W = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    out = np.zeros((w_hwio.shape[3], H, W))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("chw,co->ohw", xp[:, i:i + H, j:j + W], w_hwio[i, j])
    return out


def test_keras_h5_layer_outputs_equal_numpy(tmp_path):
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 3, 4))
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    mean, var = rng.normal(size=4), rng.uniform(0.5, 2, 4)
    path = tmp_path / "convnet.h5"
    _keras_file(path, [("conv2d", {"kernel": kernel}),
                       ("batch_normalization", {"gamma": gamma, "beta": beta, "moving_mean": mean,
                                                "moving_variance": var})])
    m = train.network(backbone="convnet", channels=[4], in_channels=3, normalization="backbone",
                      weights=str(path))
    x = torch.rand(1, 3, 8, 8)
    got = m.feature_map(x)[0].numpy()
    z = (x[0].numpy() - 0.5) / 0.25  # the convnet backbone's input normalisation
    y = _conv_numpy(z, kernel, 1)
    y = gamma[:, None, None] * (y - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) \
        + beta[:, None, None]
    np.testing.assert_allclose(got, np.maximum(y, 0), rtol=1e-4, atol=1e-4)


def test_keras_h5_without_the_expected_layers(tmp_path):
    path = tmp_path / "short.h5"
    _keras_file(path, [("conv2d", {"kernel": np.zeros((3, 3, 3, 4))})])
    with pytest.raises(ValueError, match="1 convolution, 0 batch-norm"):
        train.network(backbone="convnet", channels=[4, 8], in_channels=3, weights=str(path))
    import h5py
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f.create_group("something")
    with pytest.raises(ValueError, match="not Keras weights"):
        train.network(backbone="convnet", in_channels=3, weights=str(empty))


@needs_weights
def test_tflite_fine_tuning_keeps_the_folded_batch_norm():
    """TFLite weights have batch norm folded into the convolutions (identity statistics): batch
    statistics in training would replace the pretrained function, so batch_norm "auto" keeps the
    backbone's batch norm in eval mode; "train" is what changes it."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(32, 3, 40, 40, generator=g) * 255).to(torch.uint8)
    y = torch.arange(32) % 4
    kw = dict(backbone="mobilenet_v2", weights=str(TFLITE), embedding_dim=0, epochs=1, batch_size=16,
              lr=1e-9, freeze_stages=5, progress="off")
    ref = train.network(backbone="mobilenet_v2", in_channels=3, weights=str(TFLITE), embedding_dim=0, num_classes=4)
    for mode, kept in (("auto", True), ("frozen", True), ("train", False)):
        got = lookalike.fit(x, y, batch_norm=mode, **kw).model
        sd = got.state_dict()
        assert torch.all(sd["backbone.features.17.conv.1.1.running_mean"] == 0) == kept, mode
        same = torch.allclose(got.embed(x), ref.embed(x), atol=1e-4)
        assert same == kept, mode


@needs_weights
@pytest.mark.parametrize("backbone", ["mobilenet_v2", "convnet"])
def test_memory_format_is_the_same_function(backbone):
    """channels_last (the default) and contiguous (NCHW) layouts compute the same network:
    the same embeddings and feature map from the same weights, and the same weights after
    training steps (gradients through the TF-padded depthwise convolutions included). The
    ConvNet case has one input channel, where NCHW strides also pass as channels-last."""
    g = torch.Generator().manual_seed(1)
    c = 3 if backbone == "mobilenet_v2" else 1
    x = (torch.rand(24, c, 48, 48, generator=g) * 255).to(torch.uint8)
    y = torch.arange(24) % 3
    # SGD: Adam divides by the gradient scale, turning rounding in near-zero gradients into
    # lr-sized steps; a small lr: with batches of 8, a large one amplifies rounding step by step.
    kw = dict(backbone=backbone, epochs=1, batch_size=8, optimizer="sgd", lr=0.005, progress="off",
              augment="none", seed=3)
    if backbone == "mobilenet_v2":
        kw.update(weights=str(TFLITE), embedding_dim=0, batch_norm="train")
    fits = {f: lookalike.fit(x, y, memory_format=f, **kw).model for f in ("channels_last", "contiguous")}
    a, b = fits["channels_last"], fits["contiguous"]
    assert a.options["memory_format"] == "channels_last" and b.options["memory_format"] == "contiguous"
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.allclose(sa[k], sb[k], rtol=1e-3, atol=2e-5), k
    assert torch.allclose(a.embed(x), b.embed(x), atol=1e-4)
    fa, fb = a.feature_map(x[:4]), b.feature_map(x[:4])
    assert fa.is_contiguous() and torch.allclose(fa, fb, rtol=1e-3, atol=1e-4 * float(fb.abs().max()))
    # Training moved the weights: the comparison above is not of two untouched copies.
    still = lookalike.fit(x, y, memory_format="contiguous", **dict(kw, lr=1e-12)).model.state_dict()
    assert any(not torch.allclose(sa[k], still[k], rtol=1e-3, atol=2e-5) for k in sa)


@needs_weights
def test_shipped_resnet8_loads_every_layer():
    torch.manual_seed(0)
    fresh = train.network(backbone="resnet8", in_channels=3, embedding_dim=0, num_classes=10)
    m = train.network(backbone="resnet8", in_channels=3, embedding_dim=0, num_classes=10,
                      weights=str(RESNET8))
    before, after = fresh.state_dict(), m.state_dict()
    import h5py
    with h5py.File(RESNET8, "r") as f:
        kernel = f["model_weights/conv2d/conv2d/kernel:0"][()]
    np.testing.assert_allclose(after["backbone.conv1.weight"].numpy(), kernel.transpose(3, 2, 0, 1))
    changed = [k for k in after if k.startswith(("backbone.", "classifier."))
               and not k.endswith("num_batches_tracked")]
    assert len(changed) == 9 * 2 + 7 * 4 + 2  # conv kernel+bias, BN four, dense two
    left = [k for k in changed if torch.equal(before[k], after[k])]
    assert left == [], left


# --- state_dict -----------------------------------------------------------------------------------
def test_state_dict_round_trip_and_errors(tmp_path):
    torch.manual_seed(1)
    a = train.network(backbone="resnet20", in_channels=3, embedding_dim=16, num_classes=5)
    path = tmp_path / "a.pt"
    torch.save(a.state_dict(), path)
    torch.manual_seed(2)
    b = train.network(backbone="resnet20", in_channels=3, embedding_dim=16, num_classes=5,
                      weights=str(path))
    x = torch.rand(4, 3, 32, 32)
    assert torch.equal(a.embed(x), b.embed(x))
    # The backbone alone, under torchvision-style names, plus an ImageNet-style head skipped.
    sd = {k[len("backbone."):]: v for k, v in a.state_dict().items() if k.startswith("backbone.")}
    sd["fc.weight"], sd["fc.bias"] = torch.zeros(1000, 64), torch.zeros(1000)
    torch.save(sd, tmp_path / "backbone.pt")
    c = train.network(backbone="resnet20", in_channels=3, embedding_dim=0)
    report = c.load_pretrained(str(tmp_path / "backbone.pt"))
    assert report["format"] == "state_dict" and "classifier" in report["skipped"][0]
    assert torch.equal(c.feature_map(x), a.feature_map(x))
    # Missing, unexpected and mis-shaped keys are all listed.
    broken = dict(sd)
    del broken["conv1.weight"]
    broken["extra.weight"] = torch.zeros(1)
    broken["bn1.bias"] = torch.zeros(3)
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(ValueError) as e:
        train.network(backbone="resnet20", in_channels=3, weights=str(tmp_path / "broken.pt"))
    text = str(e.value)
    assert "missing keys: conv1.weight" in text and "unexpected keys: extra.weight" in text
    assert "mis-shaped keys: bn1.bias" in text
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a state_dict"):
        train.network(backbone="resnet20", in_channels=3, weights=str(tmp_path / "list.pt"))


def test_failed_load_leaves_network_unchanged(tmp_path):
    torch.manual_seed(3)
    m = train.network(backbone="resnet20", in_channels=3, embedding_dim=0)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    sd = {k[len("backbone."):]: torch.zeros_like(v) for k, v in before.items()
          if k.startswith("backbone.")}
    sd["layer3.0.conv2.weight"] = torch.zeros(1, 1, 3, 3)  # the last one is mis-shaped
    torch.save(sd, tmp_path / "half.pt")
    with pytest.raises(ValueError, match="mis-shaped"):
        m.load_pretrained(str(tmp_path / "half.pt"))
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())


# --- TorchScript ----------------------------------------------------------------------------------
class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.bn(self.conv1(x)))))


def test_torchscript_backbone_embeds_as_in_python(tmp_path):
    torch.manual_seed(0)
    module = _Tiny().eval()
    with torch.no_grad():
        module.bn.running_mean.uniform_(-0.5, 0.5), module.bn.running_var.uniform_(0.5, 2)
    path = tmp_path / "tiny.pt"
    torch.jit.trace(module, torch.rand(1, 3, 32, 32)).save(str(path))
    m = train.network(backbone="torchscript", weights=str(path), in_channels=3, input_size=32,
                      embedding_dim=0)
    info = m.backbone_info
    assert info["channels"] == 16 and info["stride"] == 4 and info["stages"] == 1
    x = torch.rand(5, 3, 32, 32)
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    with torch.no_grad():
        want = F.normalize(module((x - mean) / std).mean((2, 3)), dim=1)
    torch.testing.assert_close(m.embed(x), want, rtol=1e-5, atol=1e-6)
    # Trainable from the C++ loop: a frozen run leaves the module's weights, an open one moves them.
    y = torch.arange(40) % 4
    imgs = torch.rand(40, 3, 32, 32)
    for freeze, moved in ((-1, False), (0, True)):
        r = lookalike.fit(imgs, y, epochs=1, batch_size=20, backbone="torchscript",
                          weights=str(path), input_size=32, embedding_dim=8, freeze_stages=freeze,
                          progress="off")
        w = r.model.state_dict()["backbone.conv1_weight"]
        assert torch.equal(w, module.conv1.weight.detach()) is not moved
    with pytest.raises(OSError, match="not a TorchScript module"):
        bad = tmp_path / "bad.pt"
        bad.write_bytes(b"PK\x03\x04 nonsense")
        train.network(backbone="torchscript", weights=str(bad), in_channels=3)
