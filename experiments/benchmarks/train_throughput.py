"""Training throughput: lookalike's C++ loop vs a plain Python PyTorch loop, same process.

Two networks, each trained by both loops with Adam, a per-step cosine learning rate, the same
batch size, images and thread count, for a fixed number of steps; the two loops alternate over
several repetitions and the median images/s of each is reported with their ratio:

- convnet: the ConvNet (conv-BN-ReLU stages, max-pool, global average pool, embedding + BN,
  linear head) from scratch on Fashion-MNIST (28 x 28, batch 128);
- mobilenet_v2: the ImageNet MobileNetV2 (shipped TFLite weights, batch norm kept as folded)
  with a linear classifier, fine-tuned on grocery-store training photos at 128 px (batch 32).

    .venv/bin/python experiments/benchmarks/train_throughput.py [--nets convnet,mobilenet_v2]
"""
from __future__ import annotations

import argparse

import torch

import lookalike
from peers import (TFLITE, PyConvNet, add_race_flags, apply_race_flags, pretrained_mobilenet_v2, python_train,
                   race_summary)

SETTINGS = {
    "convnet": dict(steps=150, batch_size=128, lr=2e-3),
    "mobilenet_v2": dict(steps=24, batch_size=32, lr=1e-4),
}


def convnet_sides(steps: int, batch_size: int, lr: float, memory_format: str):
    x, y = lookalike.data.fashion_mnist("train")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    x, y = x[perm].contiguous(), y[perm].contiguous()
    sample = x[:10000].float().div_(255)
    mean, std = sample.mean((0, 2, 3)), sample.std((0, 2, 3), unbiased=False)

    def python_side(n_steps):
        torch.manual_seed(0)
        model = PyConvNet(1, [32, 64, 128], 128, 10, mean, std).train()
        return python_train(model, x, y, torch.randperm(len(y)), n_steps, batch_size, lr)

    def cpp_side(n_steps):
        n = n_steps * batch_size
        r = lookalike.fit(x[:n], y[:n], epochs=1, batch_size=batch_size, lr=lr, optimizer="adam",
                          schedule="cosine", channels=[32, 64, 128], embedding_dim=128, seed=0,
                          progress="off", augment="none", memory_format=memory_format)
        return r.history[0]["items_per_second"]

    return python_side, cpp_side


def mobilenet_sides(steps: int, batch_size: int, lr: float, memory_format: str):
    s = lookalike.data.image_set("grocery", split="train", image_size=128)
    perm = torch.randperm(len(s.labels), generator=torch.Generator().manual_seed(0))
    x, y = s.images[perm].contiguous(), s.labels[perm].contiguous()
    classes = int(y.max()) + 1
    n = min(len(y), steps * batch_size)

    def python_side(n_steps):
        torch.manual_seed(0)
        _, peer = pretrained_mobilenet_v2(classes)
        peer.train().freeze_batch_norm()
        return python_train(peer, x, y, torch.randperm(len(y)), n_steps, batch_size, lr)

    def cpp_side(n_steps):
        m = n_steps * batch_size
        r = lookalike.fit(x[:m], y[:m], epochs=1, batch_size=batch_size, lr=lr, optimizer="adam",
                          schedule="cosine", backbone="mobilenet_v2", weights=str(TFLITE),
                          embedding_dim=0, num_classes=classes, seed=0, progress="off",
                          augment="none", memory_format=memory_format)
        return r.history[0]["items_per_second"]

    if n < steps * batch_size:
        raise SystemExit(f"grocery train has {len(y)} photos, fewer than {steps} x {batch_size}")
    return python_side, cpp_side


def race(name: str, reps: int, steps: int, batch_size: int, lr: float, memory_format: str) -> dict:
    sides = convnet_sides if name == "convnet" else mobilenet_sides
    python_side, cpp_side = sides(steps, batch_size, lr, memory_format)
    python_side(3), cpp_side(3)  # warm-up: allocator, OpenMP pool, first touch of the data
    py, cpp = [], []
    for _ in range(reps):
        py.append(python_side(steps))
        cpp.append(cpp_side(steps))
    print(f"{name}: batch={batch_size} steps={steps} reps={reps}")
    return {"steps": steps, "batch_size": batch_size, **race_summary(py, cpp, 1.3, indent="  ")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nets", default="convnet,mobilenet_v2")
    p.add_argument("--steps", type=int, default=0, help="0: per network (150 / 24)")
    add_race_flags(p)
    a = p.parse_args()
    res = apply_race_flags(a)
    for name in a.nets.split(","):
        if name not in SETTINGS:
            raise SystemExit(f"--nets: unknown network '{name}' (known: {', '.join(SETTINGS)})")
        kw = dict(SETTINGS[name], **({"steps": a.steps} if a.steps else {}))
        res[name] = race(name, a.reps, memory_format=a.memory_format, **kw)
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
