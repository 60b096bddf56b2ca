"""Multi-label (tag) training throughput: lookalike's C++ loop with its tag heads vs a plain Python
PyTorch loop, same process.

Both fine-tune the ImageNet MobileNetV2 (shipped TFLite weights, batch norm kept as folded) with
one output per tag on fashion-products photos at 128 px: the exclusive families (gender,
articleType, baseColour, season, usage) as one softmax cross-entropy each over the photos labelled
in them, the pattern words mined from the titles with the asymmetric loss (Ridnik et al.; in the
peer written out in torch), Adam with a per-step cosine learning rate, batches of 64, the same
threads. The loops alternate over several repetitions; the median images/s of each and the ratio
are printed. Before timing, the loss of one batch from the same weights is compared.

    .venv/bin/python experiments/benchmarks/tag_train_throughput.py [--steps 12] [--reps 3]
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

import lookalike
from lookalike import tags
from peers import TFLITE, add_race_flags, apply_race_flags, pretrained_mobilenet_v2, python_train, race_summary

EXCLUSIVE = ["gender", "articleType", "baseColour", "season", "usage"]
WORDS = ["printed", "striped", "check", "checked", "solid", "floral", "graphic", "typography"]


def peer_loss(families, gamma_neg=4.0, clip=0.05):
    """The tag heads' loss in torch: ASL (mean over the multi-label terms) plus each exclusive
    family's cross-entropy over its labelled photos."""
    multi = torch.tensor([c for f in families if not f["exclusive"] for c in f["columns"]])
    exclusive = [torch.tensor(f["columns"]) for f in families if f["exclusive"]]

    def loss(logits, y):
        p = torch.sigmoid(logits[:, multi])
        t = y[:, multi]
        p_m = (p - clip).clamp(min=0)
        value = -(t * torch.log(p.clamp(min=1e-8))
                  + (1 - t) * torch.log((1 - p_m).clamp(min=1e-8)) * p_m.pow(gamma_neg)).mean()
        for cols in exclusive:
            fy = y[:, cols]
            rows = fy.sum(1) > 0
            if rows.any():
                value = value + nn.functional.cross_entropy(logits[rows][:, cols], fy[rows].argmax(1))
        return value
    return loss


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--image-size", type=int, default=128)
    add_race_flags(p)
    a = p.parse_args()
    settings = apply_race_flags(a)
    s = lookalike.data.tag_set("fashion_products", image_size=a.image_size, min_count=20, title_words=WORDS)
    n = a.steps * a.batch_size
    x, y = s.images[:n].contiguous(), s.targets[:n].contiguous()
    families = tags.families(s.tags, EXCLUSIVE)
    lr = 1e-4
    heads = {"exclusive": EXCLUSIVE, "tag_loss": {"name": "asl"}}

    def cpp_side(steps):
        m = steps * a.batch_size
        r = tags.fit(x[:m], y[:m], s.tags, epochs=1, batch_size=a.batch_size, lr=lr, optimizer="adam",
                     schedule="cosine", backbone="mobilenet_v2", weights=str(TFLITE), embedding_dim=0, seed=0,
                     progress="off", augment="none", memory_format=a.memory_format, **heads)
        return r.history[0]["items_per_second"]

    def python_side(steps):
        _, peer = pretrained_mobilenet_v2(len(s.tags))
        peer.train().freeze_batch_norm()
        return python_train(peer, x, y, torch.arange(len(y)), steps, a.batch_size, lr, loss=peer_loss(families))

    model, peer = pretrained_mobilenet_v2(len(s.tags))
    xb, yb = x[:a.batch_size], y[:a.batch_size]
    with torch.no_grad():
        theirs = peer_loss(families)(peer.eval()(xb.float().div(255))[0], yb).item()
    ours = tags.evaluate(model, xb, yb, s.tags, batch_size=a.batch_size, **heads)["loss"]
    print(f"first batch, loaded weights: tag loss {ours:.5f} (lookalike) vs {theirs:.5f} (peer)")
    if abs(ours - theirs) > 1e-3 * max(1.0, abs(theirs)):
        raise SystemExit("the peer does not compute lookalike's function: no race")
    python_side(2), cpp_side(2)  # warm-up
    py, cpp = [], []
    for _ in range(a.reps):
        py.append(python_side(a.steps))
        cpp.append(cpp_side(a.steps))
    print(f"MobileNetV2 + tag heads ({len(s.tags)} tags, {sum(f['exclusive'] for f in families)} exclusive families, "
          f"ASL), {a.image_size} px, batch {a.batch_size}, threads={settings['threads']}, steps={a.steps}, reps={a.reps}")
    res = {**settings, "steps": a.steps, "batch_size": a.batch_size, "image_size": a.image_size, "tags": len(s.tags),
           "first_batch_loss": {"lookalike": ours, "python": theirs}, **race_summary(py, cpp, 1.1)}
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
