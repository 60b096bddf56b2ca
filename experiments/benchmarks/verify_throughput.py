"""Geometric verification throughput: lookalike's batched C++ matcher + RANSAC (verify_pairs:
one pair per OpenMP thread, the GIL released) vs the same steps in a Python loop over cv2
(python3-opencv: BFMatcher k=2 and the reverse match for the mutual check, Lowe's ratio test,
cv2.findHomography with USAC_MAGSAC), same features (extracted once by lookalike), same pairs,
same threads, one process. The inlier counts of both are compared before the speed is reported.

    .venv/bin/python experiments/benchmarks/verify_throughput.py [--queries 10] [--candidates 40]
        [--method sift] [--max-features 1000] [--threads 0] [--reps 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
import torch

import lookalike
from lookalike import local
from peers import SHARED

GROCERY = SHARED / "grocery-store" / "dataset"


def python_verify(fa, fb, binary: bool, ratio: float, threshold: float, iters: int, conf: float):
    """(matches, inliers) of one pair, the way a Python user writes it with cv2."""
    da, db = fa.descriptors.numpy(), fb.descriptors.numpy()
    if len(da) == 0 or len(db) == 0:
        return 0, 0
    bf = cv2.BFMatcher(cv2.NORM_HAMMING if binary else cv2.NORM_L2)
    back = {m.queryIdx: m.trainIdx for m in bf.match(db, da)}
    good = [p[0] for p in bf.knnMatch(da, db, k=2)
            if p and (len(p) < 2 or p[0].distance < ratio * p[1].distance) and back.get(p[0].trainIdx) == p[0].queryIdx]
    if len(good) < 4:
        return len(good), 0
    ka, kb = fa.keypoints.numpy(), fb.keypoints.numpy()
    src = np.float32([ka[m.queryIdx, :2] for m in good])
    dst = np.float32([kb[m.trainIdx, :2] for m in good])
    h, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, threshold, maxIters=iters, confidence=conf)
    return len(good), 0 if h is None or mask is None else int(mask.sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--queries", type=int, default=10)
    p.add_argument("--candidates", type=int, default=40)
    p.add_argument("--method", default="sift", choices=["sift", "orb", "akaze"])
    p.add_argument("--max-features", type=int, default=1000)
    p.add_argument("--size", type=int, default=348, help="photo side (the grocery photos' own)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    threads = lookalike.set_threads(a.threads)
    cv2.setNumThreads(threads)
    paths = sorted(str(x) for x in (GROCERY / "test" / "Packages").glob("*/*/*.jpg"))
    # spread over the products: every k-th photo
    step = max(1, len(paths) // (a.queries + a.candidates))
    paths = paths[::step][: a.queries + a.candidates]
    images, _ = lookalike.data.decode_images(paths, a.size)
    t = time.perf_counter()
    feats = local.extract(images, method=a.method, max_features=a.max_features)
    extract_s = time.perf_counter() - t
    qs, cs = feats[: a.queries], feats[a.queries:]
    pairs = torch.tensor([[q, c] for q in range(len(qs)) for c in range(len(cs))])
    o = lookalike._core.local.VerifyOptions()
    binary = feats[0].binary

    cpp, py = [], []
    for _ in range(a.reps):
        t = time.perf_counter()
        counts = local.verify_pairs(qs, cs, pairs, threads=threads)
        cpp.append(len(pairs) / (time.perf_counter() - t))
        t = time.perf_counter()
        ref = [python_verify(qs[i], cs[j], binary, o.match.ratio, o.threshold, o.max_iters, o.confidence)
               for i, j in pairs.tolist()]
        py.append(len(pairs) / (time.perf_counter() - t))
    ref = torch.tensor(ref)
    same_matches = (counts[:, 0] == ref[:, 0]).float().mean().item()
    same_inliers = (counts[:, 1] == ref[:, 1]).float().mean().item()
    res = {"threads": threads, "reps": a.reps, "method": a.method, "max_features": a.max_features,
           "photo_side": a.size, "pairs": len(pairs), "mean_keypoints": sum(len(f) for f in feats) / len(feats),
           "extract_images_per_s": len(feats) / extract_s,
           "python_pairs_per_s": statistics.median(py), "cpp_pairs_per_s": statistics.median(cpp),
           "python_runs": py, "cpp_runs": cpp,
           "same_match_count_fraction": same_matches, "same_inlier_count_fraction": same_inliers,
           "mean_inliers_cpp": counts[:, 1].float().mean().item(), "mean_inliers_python": ref[:, 1].float().mean().item()}
    res["ratio_cpp_over_python"] = res["cpp_pairs_per_s"] / res["python_pairs_per_s"]
    res["ms_per_pair_cpp"] = 1000 / res["cpp_pairs_per_s"]
    res["ms_rerank_top100_cpp"] = 100 * res["ms_per_pair_cpp"]
    print(f"{len(pairs)} pairs of grocery package photos ({a.size} px), {a.method} "
          f"(mean {res['mean_keypoints']:.0f} keypoints), threads={threads}")
    print(f"extraction     : {res['extract_images_per_s']:8.1f} images/s")
    print(f"python loop    : {res['python_pairs_per_s']:8.1f} pairs/s  runs {[round(v, 1) for v in py]}")
    print(f"lookalike      : {res['cpp_pairs_per_s']:8.1f} pairs/s  runs {[round(v, 1) for v in cpp]}")
    print(f"ratio lookalike / python = {res['ratio_cpp_over_python']:.3f}  (target >= 1.5)")
    print(f"per pair {res['ms_per_pair_cpp']:.2f} ms; re-ranking one query's top 100: {res['ms_rerank_top100_cpp']:.0f} ms")
    print(f"same match counts {same_matches:.3f}, same inlier counts {same_inliers:.3f} of pairs; "
          f"mean inliers {res['mean_inliers_cpp']:.2f} vs {res['mean_inliers_python']:.2f}")
    if a.json:
        lookalike.results.write_json(a.json, res)


if __name__ == "__main__":
    main()
