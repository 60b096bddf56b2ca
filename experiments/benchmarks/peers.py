"""The plain Python PyTorch peers the benchmarks race lookalike against, written as a user would
(torch.nn modules, torch.optim, a Python loop): the ConvNet, MobileNetV2 in torchvision's layout
with TensorFlow "same" padding, and the multi-similarity loss and miner written out in torch.

Each peer takes lookalike's weights or mirrors its layout, so a benchmark can check that both sides
compute the same function before it compares their speed.
"""
from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import torch
from torch import nn

import lookalike

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
TFLITE = SHARED / "pretrained" / "mobilenet_v2_1.0_224_quant.tflite"


class PyConvNet(nn.Module):
    """The Python twin of lookalike's `convnet` backbone + embedding head + classifier."""

    def __init__(self, in_channels, channels, embedding_dim, num_classes, mean, std):
        super().__init__()
        layers, c_in = [], in_channels
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if i + 1 < len(channels):
                layers.append(nn.MaxPool2d(2))
            c_in = c
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.embed = nn.Linear(c_in, embedding_dim)
        self.embed_bn = nn.BatchNorm1d(embedding_dim)
        self.head = nn.Linear(embedding_dim, num_classes)
        self.register_buffer("mean", mean.view(1, -1, 1, 1))
        self.register_buffer("std", std.view(1, -1, 1, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        e = self.embed_bn(self.embed(self.features((x - self.mean) / self.std)))
        return self.head(torch.relu(e)), e


class SameConv(nn.Conv2d):
    """A bias-free convolution with TensorFlow "same" padding (the extra row/column at the
    bottom/right), as the TFLite weights were trained with."""

    def __init__(self, i, o, k, s, groups=1):
        super().__init__(i, o, k, s, 0, groups=groups, bias=False)

    def forward(self, x):
        k, s, pads = self.kernel_size[0], self.stride[0], []
        for size in (x.shape[3], x.shape[2]):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(nn.functional.pad(x, pads))


def conv_bn(i, o, k, s, groups=1):
    return nn.Sequential(SameConv(i, o, k, s, groups), nn.BatchNorm2d(o), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        layers = ([conv_bn(i, h, 1, 1)] if t != 1 else []) + [conv_bn(h, h, 3, s, groups=h)]
        self.conv = nn.Sequential(*layers, SameConv(h, o, 1, 1), nn.BatchNorm2d(o))
        self.residual = s == 1 and i == o

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.residual else y


class PyMobileNetV2(nn.Module):
    """MobileNetV2 (torchvision's layout and names); forward gives the pooled 1280-d features."""

    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self):
        super().__init__()
        layers, c = [conv_bn(3, 32, 3, 2)], 32
        for t, o, n, s in self.SETTINGS:
            for r in range(n):
                layers.append(InvertedResidual(c, o, s if r == 0 else 1, t))
                c = o
        layers.append(conv_bn(c, 1280, 1, 1))
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x).mean((2, 3))


class PyMobileNetV2Net(nn.Module):
    """lookalike's `mobilenet_v2` network with embedding_dim 0 in torch.nn: input normalisation,
    the backbone, average pooling and (num_classes > 0) a linear classifier on relu(pooled)."""

    def __init__(self, model: lookalike.Model, num_classes: int = 0):
        super().__init__()
        sd = model.state_dict()
        self.backbone = PyMobileNetV2()
        # Same layout and names as torchvision (and lookalike's backbone): load by name, strictly.
        self.backbone.load_state_dict({k[len("backbone."):]: v.clone() for k, v in sd.items()
                                       if k.startswith("backbone.")})
        self.register_buffer("mean", sd["input_mean"].view(1, -1, 1, 1).clone())
        self.register_buffer("std", sd["input_std"].view(1, -1, 1, 1).clone())
        self.classifier = nn.Linear(1280, num_classes) if num_classes else None
        if self.classifier is not None and "classifier.weight" in sd:
            self.classifier.load_state_dict({"weight": sd["classifier.weight"].clone(),
                                             "bias": sd["classifier.bias"].clone()})

    def freeze_batch_norm(self):
        """Batch norm of the backbone in eval mode (the folded TFLite statistics kept), as
        lookalike's batch_norm "auto" does for TFLite weights."""
        for m in self.backbone.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def forward(self, x):
        e = self.backbone((x - self.mean) / self.std)
        return (self.classifier(torch.relu(e)) if self.classifier is not None else None), e


def pretrained_mobilenet_v2(num_classes: int = 0, memory_format: str = "channels_last"
                            ) -> tuple[lookalike.Model, PyMobileNetV2Net]:
    """lookalike's MobileNetV2 with the shipped ImageNet TFLite weights, and its torch.nn twin."""
    model = lookalike.train.network(backbone="mobilenet_v2", in_channels=3, embedding_dim=0,
                                    weights=str(TFLITE), num_classes=num_classes,
                                    memory_format=memory_format)
    return model, PyMobileNetV2Net(model, num_classes)


def cosine(x: torch.Tensor) -> torch.Tensor:
    x = nn.functional.normalize(x, dim=1)
    return x @ x.t()


def ms_miner(x: torch.Tensor, y: torch.Tensor, epsilon: float = 0.1):
    """pytorch-metric-learning's MultiSimilarityMiner as boolean [B, B] pair masks."""
    with torch.no_grad():
        s = cosine(x.detach())
        same = y[:, None] == y[None, :]
        eye = torch.eye(len(y), dtype=torch.bool)
        pos, neg = same & ~eye, ~same
        min_pos = s.masked_fill(~pos, math.inf).min(1, keepdim=True).values
        max_neg = s.masked_fill(~neg, -math.inf).max(1, keepdim=True).values
        return pos & (s - epsilon < max_neg), neg & (s + epsilon > min_pos)


def ms_loss(x, pos, neg, alpha=2.0, beta=50.0, base=0.5):
    """Multi-similarity loss (Wang et al. 2019) on the mined pairs, averaged over the anchors."""
    s = cosine(x)

    def lse1(z, mask):  # log(1 + sum_mask exp(z)) per row; 0 where the row's mask is empty
        z = z.masked_fill(~mask, -math.inf)
        zero = torch.zeros(len(z), 1, dtype=z.dtype)
        return torch.logsumexp(torch.cat([zero, z], 1), 1)

    return (lse1(-alpha * (s - base), pos) / alpha + lse1(beta * (s - base), neg) / beta).mean()


def python_train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor, steps: int,
                 batch_size: int, lr: float, loss="cross_entropy") -> float:
    """A plain Python loop: Adam, per-step cosine learning rate, `steps` batches of `order`;
    loss "cross_entropy" (the classifier's logits), "multi_similarity" (mined embeddings) or a
    callable (logits, targets of the batch) -> loss (y may then be any per-row targets, e.g. 0/1
    tags [N, T]). Returns images/s."""
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    t0 = time.perf_counter()
    seen = 0
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        idx = order[step * batch_size:(step + 1) * batch_size]
        xb = x.index_select(0, idx).float().div_(255)
        yb = y.index_select(0, idx)
        logits, emb = model(xb)
        if callable(loss):
            value = loss(logits, yb)
        elif loss == "cross_entropy":
            value = nn.functional.cross_entropy(logits, yb)
        else:
            value = ms_loss(emb, *ms_miner(emb, yb))
        opt.zero_grad()
        value.backward()
        opt.step()
        if not math.isfinite(value.item()):
            raise RuntimeError("the Python peer diverged")
        seen += len(yb)
    return seen / (time.perf_counter() - t0)


def add_race_flags(p, reps: int = 3) -> None:
    """The flags every race takes: repetitions, threads, JSON output, and --memory-format and
    --no-cpu-cache (lookalike's side without one of its speed-ups)."""
    p.add_argument("--reps", type=int, default=reps)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the figures here")
    p.add_argument("--memory-format", default="channels_last", choices=["channels_last", "contiguous"],
                   help="lookalike's network layout (NetOptions.memory_format)")
    p.add_argument("--no-cpu-cache", action="store_true",
                   help="turn lookalike's caching CPU allocator off (lookalike.set_cpu_cache)")


def apply_race_flags(a) -> dict:
    """Sets the threads and the allocator; returns the settings for the JSON record."""
    threads = lookalike.set_threads(a.threads)
    lookalike.set_cpu_cache(not a.no_cpu_cache)
    return {"threads": threads, "reps": a.reps, "torch": torch.__version__,
            "memory_format": a.memory_format, "cpu_cache": not a.no_cpu_cache}


def race_summary(python_runs: list, cpp_runs: list, target: float | None = None, indent: str = "") -> dict:
    """Medians, runs and ratio of two sides' images/s, printed."""
    res = {"python_images_per_s": statistics.median(python_runs), "cpp_images_per_s": statistics.median(cpp_runs),
           "python_runs": python_runs, "cpp_runs": cpp_runs}
    res["ratio_cpp_over_python"] = res["cpp_images_per_s"] / res["python_images_per_s"]
    print(f"{indent}python loop : {res['python_images_per_s']:8.1f} images/s  runs {[round(v, 1) for v in python_runs]}")
    print(f"{indent}lookalike   : {res['cpp_images_per_s']:8.1f} images/s  runs {[round(v, 1) for v in cpp_runs]}")
    goal = f"  (target >= {target})" if target else ""
    print(f"{indent}ratio lookalike / python = {res['ratio_cpp_over_python']:.3f}{goal}", flush=True)
    return res
