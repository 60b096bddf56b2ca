"""An independent NumPy implementation of pytorch-metric-learning's retrieval metrics (full
similarity matrix + argsort), used to check the C++ evaluator."""
import numpy as np


def retrieval_metrics(q, ql, r=None, rl=None, ks=(1, 10)):
    same = r is None
    if same:
        r, rl = q, ql
    sims = q.astype(np.float64) @ r.astype(np.float64).T
    if same:
        np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")
    if same:
        order = order[:, :-1]  # the query itself sorts last
    out = {"precision_at_1": [], "r_precision": [], "map_at_r": []}
    out.update({f"recall_at_{k}": [] for k in ks})
    excluded = 0
    for i in range(len(q)):
        R = int(np.sum(rl == ql[i])) - (1 if same else 0)
        if R == 0:
            excluded += 1
            continue
        rel = (rl[order[i]] == ql[i]).astype(np.float64)
        out["precision_at_1"].append(rel[0])
        for k in ks:
            out[f"recall_at_{k}"].append(float(rel[:k].any()))
        out["r_precision"].append(rel[:R].sum() / R)
        prec = np.cumsum(rel[:R]) / np.arange(1, R + 1)
        out["map_at_r"].append((prec * rel[:R]).sum() / R)
    res = {k: float(np.mean(v)) for k, v in out.items()}
    res["num_queries"] = len(q) - excluded
    res["num_excluded"] = excluded
    return res
