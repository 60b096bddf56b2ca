"""Is the TFLite MobileNetV2 loaded right? Its 1,001-class ImageNet head on the grocery test photos
whose product is itself an ImageNet class (Granny Smith, banana, lemon, orange, pineapple,
pomegranate, cucumber, mushroom, bell peppers, zucchini, head cabbage): top-1 and top-5
accuracy, overall and per class. Chance is 1/1001 and 5/1001.

    .venv/bin/python experiments/pretrained_imagenet_check.py [--split test] [--json out.json]
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import torch

import lookalike

ROOT = Path(__file__).resolve().parents[1]
GROCERY = ROOT.parent / "shared" / "data" / "grocery-store" / "dataset"
TFLITE = ROOT.parent / "shared" / "data" / "pretrained" / "mobilenet_v2_1.0_224_quant.tflite"
# Grocery fine class -> index in the 1,001-class head (0 is "background"; imagenet_labels.txt).
IMAGENET = {"Granny-Smith": 949, "Banana": 955, "Lemon": 952, "Orange": 951, "Pineapple": 954,
            "Pomegranate": 958, "Cucumber": 944, "Brown-Cap-Mushroom": 948, "Green-Bell-Pepper": 946,
            "Orange-Bell-Pepper": 946, "Red-Bell-Pepper": 946, "Yellow-Bell-Pepper": 946,
            "Zucchini": 940, "Cabbage": 937}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    lookalike.set_threads(a.threads)
    rows = [line.split(", ")[0] for line in (GROCERY / f"{a.split}.txt").read_text().splitlines()]
    picked = [(r, Path(r).parent.name) for r in rows if Path(r).parent.name in IMAGENET]
    images, kept = lookalike.data.decode_images([str(GROCERY / r) for r, _ in picked], 224)
    names = [picked[i][1] for i in kept]
    model = lookalike.train.network(backbone="mobilenet_v2", in_channels=3, embedding_dim=0,
                                    num_classes=1001, weights=str(TFLITE))
    top5 = model.predict(images, batch_size=64).topk(5, dim=1).indices
    want = torch.tensor([IMAGENET[n] for n in names])
    hit1, hit5 = top5[:, 0] == want, (top5 == want[:, None]).any(1)
    per = defaultdict(lambda: [0, 0, 0])
    for n, h1, h5 in zip(names, hit1.tolist(), hit5.tolist()):
        per[n][0] += 1
        per[n][1] += h1
        per[n][2] += h5
    res = {"split": a.split, "photos": len(names), "classes": len(per),
           "top1": hit1.float().mean().item(), "top5": hit5.float().mean().item(),
           "per_class": {n: {"photos": c, "top1": t1 / c, "top5": t5 / c} for n, (c, t1, t5) in sorted(per.items())}}
    print(f"{res['photos']} {a.split} photos of {res['classes']} classes: top-1 {res['top1']:.3f}, "
          f"top-5 {res['top5']:.3f} (chance 0.001 / 0.005)")
    for n, r in res["per_class"].items():
        print(f"  {n:20s} {r['photos']:4d}  top-1 {r['top1']:.2f}  top-5 {r['top5']:.2f}")
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
