"""Training throughput: lookalike's C++ loop vs a plain Python PyTorch loop, same process.

Both train the same ConvNet (conv-BN-ReLU stages, max-pool, global average pool, embedding +
BN, linear head) with Adam, a per-step cosine learning rate, the same batch size, the same
Fashion-MNIST images and the same thread count, for a fixed number of steps; the two loops
alternate over several repetitions and the median images/s of each is reported with their ratio.

    .venv/bin/python experiments/benchmarks/train_throughput.py [--steps 150] [--reps 3]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
from torch import nn

import lookalike


class PyConvNet(nn.Module):
    """The Python twin of lookalike::models::ConvNet (the peer, written as a user would)."""

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


def python_loop(x, y, steps, batch_size, lr, channels, embedding_dim, seed):
    torch.manual_seed(seed)
    sample = x[:10000].float().div_(255)
    model = PyConvNet(1, channels, embedding_dim, 10, sample.mean((0, 2, 3)), sample.std((0, 2, 3), unbiased=False))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    order = torch.randperm(len(y))
    t0 = time.perf_counter()
    loss_sum, correct, seen = 0.0, 0, 0
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        idx = order[step * batch_size:(step + 1) * batch_size]
        xb = x.index_select(0, idx).float().div_(255)
        yb = y.index_select(0, idx)
        logits, _ = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(yb)
        correct += int(logits.argmax(1).eq(yb).sum())
        seen += len(yb)
    return seen / (time.perf_counter() - t0)


def cpp_loop(x, y, steps, batch_size, lr, channels, embedding_dim, seed):
    n = steps * batch_size
    r = lookalike.fit(x[:n], y[:n], epochs=1, batch_size=batch_size, lr=lr, optimizer="adam",
                      schedule="cosine", channels=channels, embedding_dim=embedding_dim, seed=seed,
                      progress="off", augment="none")
    return r.history[0]["items_per_second"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the figures here")
    a = p.parse_args()
    threads = lookalike.set_threads(a.threads)
    torch.set_num_threads(threads)  # the same libtorch pool; set explicitly for clarity
    x, y = lookalike.data.fashion_mnist("train")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[perm].contiguous(), y[perm].contiguous()
    kw = dict(steps=a.steps, batch_size=a.batch_size, lr=2e-3, channels=[32, 64, 128], embedding_dim=128, seed=0)
    # Warm-up both (allocator, OpenMP pool, first-touch of the data).
    python_loop(x, y, **dict(kw, steps=10))
    cpp_loop(x, y, **dict(kw, steps=10))
    py, cpp = [], []
    for _ in range(a.reps):
        py.append(python_loop(x, y, **kw))
        cpp.append(cpp_loop(x, y, **kw))
    res = {
        "threads": threads, "steps": a.steps, "batch_size": a.batch_size, "reps": a.reps,
        "python_images_per_s": statistics.median(py), "cpp_images_per_s": statistics.median(cpp),
        "python_runs": py, "cpp_runs": cpp,
    }
    res["ratio_cpp_over_python"] = res["cpp_images_per_s"] / res["python_images_per_s"]
    print(f"threads={threads} batch={a.batch_size} steps={a.steps} reps={a.reps}")
    print(f"python loop : {res['python_images_per_s']:8.1f} images/s  runs {[round(v) for v in py]}")
    print(f"C++ loop    : {res['cpp_images_per_s']:8.1f} images/s  runs {[round(v) for v in cpp]}")
    print(f"ratio C++ / python = {res['ratio_cpp_over_python']:.3f}  (target >= 1.1)")
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
