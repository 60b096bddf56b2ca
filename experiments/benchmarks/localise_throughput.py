"""Localisation throughput: CAM boxes per second with lookalike.localise.localise (C++: the
backbone's feature map, the class's map as the classifier's weights over it, then OpenMP over maps:
resize, threshold, largest connected component with OpenCV) vs the same steps written in Python
(the same network's feature map through lookalike, the map as a torch einsum, then cv2 per map),
same photos, same network, same threads, one process. The boxes of both are compared before the
speed is reported.

    .venv/bin/python experiments/benchmarks/localise_throughput.py [--photos 128] [--size 448]
        [--threshold 0.2] [--threads 0] [--reps 3] [--device cpu] [--json out.json]
"""
from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
import torch

import lookalike
from lookalike import data, localise, train

WEIGHTS = "{pretrained}/mobilenet_v2_1.0_224_quant.tflite"


def python_boxes(net, images, classes, sizes, threshold: float, batch: int):
    """The steps of localise() in Python: batched feature maps, CAM by einsum, cv2 per map."""
    weight = net.state_dict()["classifier.weight"]
    out = []
    for s in range(0, len(images), batch):
        fmap = net.feature_map(images[s:s + batch])
        cams = torch.einsum("bc,bchw->bhw", weight[classes[s:s + batch]], fmap)
        for m, (w, h) in zip(cams.numpy(), sizes[s:s + batch].tolist()):
            lo, hi = float(m.min()), float(m.max())
            if not hi > lo:
                out.append([0, 0, 0, 0])
                continue
            scaled = cv2.resize((m - lo) / (hi - lo), (w, h), interpolation=cv2.INTER_LINEAR)
            n, _, stats, _ = cv2.connectedComponentsWithStats((scaled > threshold).astype(np.uint8), connectivity=8)
            if n < 2:
                out.append([0, 0, 0, 0])
                continue
            b = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            x, y, bw, bh = (int(v) for v in stats[b, :4])
            out.append([x, y, x + bw, y + bh])
    return torch.tensor(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", type=int, default=128)
    p.add_argument("--size", type=int, default=448, help="side the photos are read at (the network's input)")
    p.add_argument("--threshold", type=float, default=0.2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    threads = lookalike.set_threads(a.threads)
    cv2.setNumThreads(threads)
    s = data.tag_set(image_size=a.size, min_count=20, exclude=["skin", "hair"])
    images, sizes = s.images[: a.photos], s.sizes[: a.photos]
    torch.manual_seed(0)
    net = train.network(backbone="mobilenet_v2", weights=WEIGHTS, embedding_dim=0, in_channels=3,
                        num_classes=len(s.tags))
    localise.fit_probe(net, localise.pooled_features(net, s.images[a.photos:a.photos + 512]),
                       s.targets[a.photos:a.photos + 512], epochs=100)
    classes = net.predict(images).argmax(1)  # the top tag of each photo, for both sides
    cam = {"method": "cam", "batch_size": a.batch, "device": a.device}
    lk, py = [], []
    for _ in range(a.reps):
        t = time.perf_counter()
        boxes = localise.localise(net, images, classes=classes, sizes=sizes, threshold=a.threshold, cam=cam)[0]
        lk.append(len(images) / (time.perf_counter() - t))
        if a.device == "cpu":
            t = time.perf_counter()
            ref = python_boxes(net, images, classes, sizes, a.threshold, a.batch)
            py.append(len(images) / (time.perf_counter() - t))
    res = {"threads": threads, "reps": a.reps, "photos": len(images), "side": a.size, "device": a.device,
           "map_side": list(localise.activation_maps(net, images[:1])[0].shape[1:]),
           "lookalike_images_per_s": statistics.median(lk), "lookalike_runs": lk}
    print(f"{len(images)} clothing-co-parsing photos at {a.size} px, MobileNetV2 CAM "
          f"({res['map_side'][0]}x{res['map_side'][1]} maps), threshold {a.threshold}, threads={threads}, {a.device}")
    print(f"lookalike      : {res['lookalike_images_per_s']:8.1f} images/s  runs {[round(v, 1) for v in lk]}")
    if py:
        res.update({"python_images_per_s": statistics.median(py), "python_runs": py,
                    "same_box_fraction": (boxes == ref).all(1).float().mean().item(),
                    "mean_iou_with_python": localise.box_iou(boxes, ref).mean().item()})
        res["ratio_lookalike_over_python"] = res["lookalike_images_per_s"] / res["python_images_per_s"]
        print(f"python loop    : {res['python_images_per_s']:8.1f} images/s  runs {[round(v, 1) for v in py]}")
        print(f"ratio lookalike / python = {res['ratio_lookalike_over_python']:.3f}; same boxes "
              f"{res['same_box_fraction']:.3f} of photos (mean IoU {res['mean_iou_with_python']:.4f})")
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
