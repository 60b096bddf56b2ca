"""Metric-learning throughput: lookalike's C++ loop vs a plain Python PyTorch loop, same process.

Both fine-tune the ImageNet MobileNetV2 (shipped TFLite weights, batch norm kept as folded, the
pooled 1280-d features as the embedding) on grocery-store training photos at 128 px with the
multi-similarity loss and miner (pytorch-metric-learning's definitions; in the peer written out in
torch), Adam with a per-step cosine learning rate, batches of 64 from the class-balanced sampler
(4 photos per class), the same threads. The loops alternate over several repetitions; the median
images/s of each and the ratio are printed. Before timing, one step of each from the same weights
on the same batch is compared (the loss values must agree).

    .venv/bin/python experiments/benchmarks/metric_learning_throughput.py [--steps 12] [--reps 3]
"""
from __future__ import annotations

import argparse

import torch

import lookalike
from peers import (TFLITE, add_race_flags, apply_race_flags, ms_loss, ms_miner, pretrained_mobilenet_v2,
                   python_train, race_summary)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--samples-per-class", type=int, default=4)
    p.add_argument("--image-size", type=int, default=128)
    add_race_flags(p)
    a = p.parse_args()
    settings = apply_race_flags(a)
    s = lookalike.data.image_set("grocery", split="train", image_size=a.image_size)
    # One class-balanced epoch of the whole set, cut to `steps` batches: both loops train on
    # exactly these images, the C++ loop re-sampling them with the same sampler.
    order = lookalike._core.metric.class_balanced_order(s.labels, a.samples_per_class, a.batch_size, 0)
    order = torch.as_tensor(order, dtype=torch.int64)[: a.steps * a.batch_size]
    if len(order) < a.steps * a.batch_size:
        raise SystemExit(f"one class-balanced epoch has {len(order)} photos, fewer than {a.steps} x {a.batch_size}")
    x, y = s.images[order].contiguous(), s.labels[order].contiguous()
    lr = 1e-4

    def cpp_side(steps):
        m = steps * a.batch_size
        r = lookalike.fit(x[:m], y[:m], epochs=1, batch_size=a.batch_size, lr=lr, optimizer="adam",
                          schedule="cosine", backbone="mobilenet_v2", weights=str(TFLITE),
                          embedding_dim=0, loss="multi_similarity", miner="multi_similarity",
                          sampler="class_balanced", samples_per_class=a.samples_per_class, seed=0,
                          progress="off", augment="none", memory_format=a.memory_format)
        return r.history[0]["items_per_second"]

    def python_side(steps):
        _, peer = pretrained_mobilenet_v2()
        peer.train().freeze_batch_norm()
        return python_train(peer, x, y, torch.arange(len(y)), steps, a.batch_size, lr, loss="multi_similarity")

    # Same function: the first batch's loss from the loaded weights, both definitions.
    model, peer = pretrained_mobilenet_v2()
    xb, yb = x[: a.batch_size], y[: a.batch_size]
    with torch.no_grad():
        emb = peer.eval()(xb.float().div(255))[1]
        peer_loss = ms_loss(emb, *ms_miner(emb, yb)).item()
    M = lookalike._core.metric
    opts = M.MetricOptions()
    opts.update({"loss": "multi_similarity", "miner": "multi_similarity"}, "metric")
    ours = model.embed(xb, batch_size=a.batch_size)
    cpp_loss = M.make_loss(opts, ours.shape[1], int(y.max()) + 1)(ours, yb, M.mine(opts, ours, yb)).item()
    print(f"first batch, loaded weights: multi-similarity loss {cpp_loss:.5f} (lookalike) vs {peer_loss:.5f} (peer)")
    if abs(cpp_loss - peer_loss) > 1e-3 * max(1.0, abs(peer_loss)):
        raise SystemExit("the peer does not compute lookalike's function: no race")
    python_side(2), cpp_side(2)  # warm-up: allocator, OpenMP pool, first touch of the data
    py, cpp = [], []
    for _ in range(a.reps):
        py.append(python_side(a.steps))
        cpp.append(cpp_side(a.steps))
    print(f"MobileNetV2 + multi-similarity, {a.image_size} px, batch {a.batch_size} "
          f"({a.samples_per_class} per class), threads={settings['threads']}, steps={a.steps}, reps={a.reps}")
    res = {**settings, "steps": a.steps, "batch_size": a.batch_size, "image_size": a.image_size,
           "first_batch_loss": {"lookalike": cpp_loss, "python": peer_loss}, **race_summary(py, cpp, 1.1)}
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
