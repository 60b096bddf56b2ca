"""Embedding extraction: ImageNet MobileNetV2 (the shipped TFLite weights) at 224 over the grocery
photos, lookalike's C++ inference vs a plain Python PyTorch MobileNetV2 holding the same weights,
same process, same threads, same decoded images.

The peer is MobileNetV2 written out in torch.nn as a user would (torchvision's layout); it gets
lookalike's loaded weights, so both give the same embeddings (checked) and only speed differs.
Each side runs `--reps` times alternately; the median images/s of each and the ratio are printed.

    .venv/bin/python experiments/benchmarks/embed_throughput.py [--limit 0] [--device cpu]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch import nn

import lookalike

ROOT = Path(__file__).resolve().parents[2]
GROCERY = ROOT.parent / "shared" / "data" / "grocery-store" / "dataset"
TFLITE = ROOT.parent / "shared" / "data" / "pretrained" / "mobilenet_v2_1.0_224_quant.tflite"


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
        return nn.functional.normalize(self.features(x).mean((2, 3)), dim=1)


def peer_from(model: lookalike.Model) -> tuple[PyMobileNetV2, torch.Tensor, torch.Tensor]:
    """The Python twin with the lookalike network's backbone weights and input normalisation."""
    sd = model.state_dict()
    peer = PyMobileNetV2().eval()
    # Same layout and names as torchvision (and lookalike's backbone): load by name, strictly.
    peer.load_state_dict({k[len("backbone."):]: v.clone() for k, v in sd.items() if k.startswith("backbone.")})
    return peer, sd["input_mean"].view(1, -1, 1, 1), sd["input_std"].view(1, -1, 1, 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=0, help="first N photos (0: all 5,125)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, help="also write the figures here")
    a = p.parse_args()
    threads = lookalike.set_threads(a.threads)
    paths = sorted(str(x) for x in GROCERY.glob("*/*/*/*/*.jpg")) + sorted(str(x) for x in GROCERY.glob("*/*/*/*.jpg"))
    paths = paths[: a.limit] if a.limit else paths
    t = time.perf_counter()
    images, kept = lookalike.data.decode_images(paths, 224)
    decode_s = time.perf_counter() - t
    model = lookalike.train.network(backbone="mobilenet_v2", in_channels=3, embedding_dim=0, weights=str(TFLITE))
    peer, mean, std = peer_from(model)
    peer = peer.to(a.device)

    def run_peer():
        out = []
        with torch.inference_mode():
            for s in range(0, len(images), a.batch_size):
                x = images[s:s + a.batch_size].to(a.device).float().div_(255)
                out.append(peer((x - mean.to(a.device)) / std.to(a.device)).cpu())
        return torch.cat(out)

    cpp, py = [], []
    for _ in range(a.reps):
        t = time.perf_counter()
        e_cpp = model.embed(images, batch_size=a.batch_size, device=a.device)
        cpp.append(len(images) / (time.perf_counter() - t))
        t = time.perf_counter()
        e_py = run_peer()
        py.append(len(images) / (time.perf_counter() - t))
    diff = (e_cpp - e_py).abs().max().item()
    res = {"images": len(images), "threads": threads, "device": a.device, "batch_size": a.batch_size,
           "decode_images_per_s": len(images) / decode_s, "cpp_images_per_s": statistics.median(cpp),
           "python_images_per_s": statistics.median(py), "max_abs_difference": diff}
    res["ratio_cpp_over_python"] = res["cpp_images_per_s"] / res["python_images_per_s"]
    print(f"{len(images)} images at 224, threads={threads}, device={a.device}, batch={a.batch_size}")
    print(f"decode (OpenCV) : {res['decode_images_per_s']:8.1f} images/s")
    print(f"python peer     : {res['python_images_per_s']:8.1f} images/s  runs {[round(v, 1) for v in py]}")
    print(f"lookalike (C++) : {res['cpp_images_per_s']:8.1f} images/s  runs {[round(v, 1) for v in cpp]}")
    print(f"ratio C++ / python = {res['ratio_cpp_over_python']:.3f}; max |embedding difference| = {diff:.2e}")
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
