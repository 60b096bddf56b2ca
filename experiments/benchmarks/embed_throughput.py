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
import time

import torch
from torch import nn

import lookalike
from peers import SHARED, add_race_flags, apply_race_flags, pretrained_mobilenet_v2, race_summary

GROCERY = SHARED / "grocery-store" / "dataset"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=0, help="first N photos (0: all 5,125)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu")
    add_race_flags(p)
    a = p.parse_args()
    settings = apply_race_flags(a)
    paths = sorted(str(x) for x in GROCERY.glob("*/*/*/*/*.jpg")) + sorted(str(x) for x in GROCERY.glob("*/*/*/*.jpg"))
    paths = paths[: a.limit] if a.limit else paths
    t = time.perf_counter()
    images, kept = lookalike.data.decode_images(paths, 224)
    decode_s = time.perf_counter() - t
    model, peer = pretrained_mobilenet_v2(memory_format=a.memory_format)
    peer = peer.eval().to(a.device)

    def run_peer():
        out = []
        with torch.inference_mode():
            for s in range(0, len(images), a.batch_size):
                x = images[s:s + a.batch_size].to(a.device).float().div_(255)
                out.append(nn.functional.normalize(peer(x)[1], dim=1).cpu())
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
    print(f"{len(images)} images at 224, threads={settings['threads']}, device={a.device}, batch={a.batch_size}")
    print(f"decode (OpenCV) : {len(images) / decode_s:8.1f} images/s")
    res = {**settings, "images": len(images), "device": a.device, "batch_size": a.batch_size,
           "decode_images_per_s": len(images) / decode_s, **race_summary(py, cpp), "max_abs_difference": diff}
    print(f"max |embedding difference| = {diff:.2e}")
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
