"""Noisy-label study: planted noise (symmetric, pair-flip, instance) on Fashion-MNIST or real
product photos, every filter strategy with the same backbone, epochs and seeds, test accuracy
per epoch (best and last), kept-set label precision per epoch, label-issue detection
precision/recall/F1 against the planted noise, wall time per strategy.

Test accuracy is measured after every epoch (the test set is the trainer's validation set),
so "best" is the best epoch's test accuracy as the Co-teaching/JoCoR papers report it; "last"
is the honest figure.
"""
from __future__ import annotations

import math
import time
from typing import Any, Dict, List


from .. import _core, data, noisy, plot, train
from .. import eval as ev
from .base import Output, Study, subset

STRATEGIES = list(_core.noisy.filters())  # the C++ registry's names

DEFAULTS: Dict[str, Any] = {
    "study": "noisy_labels",
    "name": "noisy_fmnist",
    "seed": 0,
    "seeds": [0, 1, 2],
    "threads": 0,
    "device": "cpu",
    "data": {
        "dataset": "fashion_mnist",  # fashion_mnist | products
        "root": None,
        "train_limit": 0,            # stratified subset sizes; 0: all
        "test_limit": 0,
        "image_size": 64,            # products
        "target": "articleType",     # products: the label column
        "top_classes": 20,           # products: the most frequent values of target
        "test_fraction": 0.2,        # products: held-out share (stratified)
    },
    "noise": [
        {"kind": "symmetric", "rate": 0.2},
        {"kind": "symmetric", "rate": 0.5},
        {"kind": "symmetric", "rate": 0.8},
        {"kind": "pairflip", "rate": 0.45},
        {"kind": "instance", "rate": 0.4},
    ],
    "strategies": list(STRATEGIES),
    "clean_reference": True,  # also train on the clean labels (filter none): the ceiling
    "train": {k: v for k, v in train.default_options().items()
              if k not in ("seed", "threads", "device", "checkpoint_dir", "resume", "log_path", "filter",
                           "forget_rate")},
    "forget_rate": None,      # tau; null: the planted noise rate (known here)
    "detection": {
        "enabled": True,
        "folds": 4,
        "epochs": 0,          # per fold model; 0: half of train.epochs
        "filter_by": ["prune_by_noise_rate", "prune_by_class", "both", "confident_learning"],
        "train": None,        # fold-model training options that differ from train (e.g. channels, lr)
    },
}


# Options that only some variants read; setting one the variant ignores is an error.
APPLIES = [
    (["data.image_size", "data.target", "data.top_classes", "data.test_fraction"],
     lambda c: c["data"]["dataset"] == "products", "data.dataset is products"),
    (["detection.folds", "detection.epochs", "detection.filter_by", "detection.train"],
     lambda c: c["detection"]["enabled"], "detection.enabled"),
]


def load(cfg: Dict[str, Any]):
    """(x_train, y_train, x_test, y_test, class names) for the configured dataset."""
    d = cfg["data"]
    seed = cfg["seed"]
    if d["dataset"] == "fashion_mnist":
        x_tr, y_tr = data.fashion_mnist("train", d["root"])
        x_te, y_te = data.fashion_mnist("test", d["root"])
        names = list(data.FASHION_MNIST_CLASSES)
    elif d["dataset"] == "products":
        cat = data.product_catalog(d["root"], image_size=int(d["image_size"]), threads=cfg["threads"])
        y, names = cat.labels(d["target"], top=int(d["top_classes"]))
        keep = (y >= 0).nonzero().view(-1)
        x, y = cat.images[keep], y[keep]
        te, tr = data.random_split(len(y), float(d["test_fraction"]), seed, labels=y)
        x_tr, y_tr, x_te, y_te = x[tr], y[tr], x[te], y[te]
    else:
        raise ValueError(f"data.dataset must be 'fashion_mnist' or 'products', got {d['dataset']!r}")
    x_tr, y_tr = subset(x_tr, y_tr, int(d["train_limit"]), seed)
    x_te, y_te = subset(x_te, y_te, int(d["test_limit"]), seed + 1)
    return x_tr, y_tr, x_te, y_te, names


def _fold_options(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """Training options of the detection's fold models: train, then detection.train, then the
    detection's epochs (detection.epochs; 0: half of train.epochs)."""
    det = cfg["detection"]
    epochs = int(det["epochs"]) or max(1, int(cfg["train"]["epochs"]) // 2)
    return dict(cfg["train"], **(det["train"] or {}), epochs=epochs)


def _tag(setting: Dict[str, Any]) -> str:
    return f"{setting['kind']}-{int(round(100 * setting['rate']))}"


def _mean_std(v: List[float]) -> Dict[str, float]:
    m = sum(v) / len(v)
    s = math.sqrt(sum((a - m) ** 2 for a in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return {"mean": m, "std": s, "n": len(v)}


def _check(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """The config's cross-field checks; returns the detection section with its train options."""
    unknown = set(cfg["strategies"]) - set(STRATEGIES)
    if unknown:
        raise ValueError(f"unknown strategies {sorted(unknown)}; known: {STRATEGIES}")
    if not isinstance(cfg["detection"]["train"] or {}, dict):
        raise ValueError(f"detection.train must be a section of training options, got {cfg['detection']['train']!r}")
    det_cfg = dict(cfg["detection"], train=dict(cfg["detection"]["train"] or {}))
    if not cfg["strategies"] and not cfg["clean_reference"] and not det_cfg["enabled"]:
        raise ValueError("nothing to run: strategies is empty, clean_reference and detection.enabled are false")
    if "epochs" in det_cfg["train"]:
        raise ValueError("detection.train.epochs: set the fold models' epochs with detection.epochs")
    return det_cfg


def _record(history, strategy, setting, seed, seconds) -> Dict[str, Any]:
    """One training run's row: accuracy per epoch, best and last, kept-set curves."""
    acc = [h["val_accuracy"] for h in history]
    return {"noise": _tag(setting) if setting else "clean", "strategy": strategy, "seed": seed,
            "last_accuracy": acc[-1], "best_accuracy": max(acc), "best_epoch": 1 + acc.index(max(acc)),
            "seconds": seconds, "accuracy_curve": acc,
            "label_precision_curve": [h.get("label_precision") for h in history],
            "kept_fraction_curve": [h["kept_fraction"] for h in history],
            "history": history}


def _detect(x_tr, y_tr, noisy_y, corrupted, setting, seed, det_cfg, fold_options) -> List[Dict[str, Any]]:
    """Confident-learning detection of the planted noise: out-of-fold probabilities by K-fold
    cross-training, then each pruning rule scored against the corruptions."""
    probs = noisy.cross_val_pred_probs(x_tr, noisy_y, folds=int(det_cfg["folds"]), seed=seed, **fold_options)
    # How well the fold models know the true classes: their errors on clean samples are what
    # confident learning mistakes for label issues.
    oof_accuracy = _core.eval.accuracy(probs, y_tr)
    estimated_rate = noisy.estimate_noise_rate(noisy_y, probs)
    rows = []
    for how in det_cfg["filter_by"]:
        q = ev.prf(noisy.find_label_issues(noisy_y, probs, filter_by=how), corrupted)
        rows.append({"noise": _tag(setting), "filter_by": how, "precision": q["precision"], "recall": q["recall"],
                     "f1": q["f1"], "flagged": q["predicted"], "corrupted": q["actual"],
                     "estimated_noise_rate": estimated_rate, "fold_accuracy_true_labels": oof_accuracy})
    return rows


def _summaries(cfg, runs, clean_runs):
    """Mean and spread over seeds per (noise, strategy), and of the clean-label reference."""
    table = []
    for setting in cfg["noise"]:
        for strategy in cfg["strategies"]:
            rows = [r for r in runs if r["noise"] == _tag(setting) and r["strategy"] == strategy]
            table.append({"noise": _tag(setting), "strategy": strategy,
                          "last": _mean_std([r["last_accuracy"] for r in rows]),
                          "best": _mean_std([r["best_accuracy"] for r in rows]),
                          "seconds": _mean_std([r["seconds"] for r in rows]),
                          "final_label_precision": _mean_std([r["label_precision_curve"][-1] for r in rows])})
    clean = None
    if clean_runs:
        clean = {"last": _mean_std([r["last_accuracy"] for r in clean_runs]),
                 "best": _mean_std([r["best_accuracy"] for r in clean_runs]),
                 "seconds": _mean_std([r["seconds"] for r in clean_runs])}
    return table, clean


def run(cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
    det_cfg = _check(cfg)
    fold_options = _fold_options(cfg)
    t0 = time.perf_counter()
    x_tr, y_tr, x_te, y_te, names = load(cfg)
    num_classes = len(names)
    timings = {"load_s": time.perf_counter() - t0}
    base = dict(cfg["train"], threads=cfg["threads"], device=cfg["device"], num_classes=num_classes,
                progress=cfg["train"].get("progress", "auto"))
    fold_options = dict(base, **fold_options)
    if det_cfg["enabled"]:
        train.make_options(**fold_options)  # a bad fold-model option fails now, not hours in
    runs: List[Dict[str, Any]] = []
    detection: List[Dict[str, Any]] = []
    clean_runs: List[Dict[str, Any]] = []
    for seed in cfg["seeds"]:
        if cfg["clean_reference"]:
            t = time.perf_counter()
            r = train.fit(x_tr, y_tr, val=(x_te, y_te), seed=seed, **base)
            clean_runs.append(_record(r.history, "none", None, seed, time.perf_counter() - t))
            print(f"[clean labels seed {seed}] {'none':18s} last {clean_runs[-1]['last_accuracy']:.4f} "
                  f"best {clean_runs[-1]['best_accuracy']:.4f} ({clean_runs[-1]['seconds']:.0f} s)", flush=True)
        for setting in cfg["noise"]:
            noisy_y, corrupted, _, realised = noisy.inject_noise(
                y_tr, kind=setting["kind"], rate=float(setting["rate"]), num_classes=num_classes,
                seed=seed, features=x_tr if setting["kind"] == "instance" else None)
            tau = cfg["forget_rate"] if cfg["forget_rate"] is not None else float(setting["rate"])
            for strategy in cfg["strategies"]:
                t = time.perf_counter()
                r = train.fit(x_tr, noisy_y, val=(x_te, y_te), clean_labels=y_tr, seed=seed, filter=strategy,
                              forget_rate=min(tau, 0.95), **base)
                row = _record(r.history, strategy, setting, seed, time.perf_counter() - t)
                row["realised_noise"] = realised
                runs.append(row)
                print(f"[{_tag(setting)} seed {seed}] {strategy:18s} last {row['last_accuracy']:.4f} "
                      f"best {row['best_accuracy']:.4f} ({row['seconds']:.0f} s)", flush=True)
            if det_cfg["enabled"] and seed == cfg["seeds"][0]:
                t = time.perf_counter()
                found = _detect(x_tr, y_tr, noisy_y, corrupted, setting, seed, det_cfg, fold_options)
                detection += found
                timings[f"detection_{_tag(setting)}_s"] = time.perf_counter() - t
                if found:
                    print(f"[{_tag(setting)} seed {seed}] detection: out-of-fold accuracy on the true labels "
                          f"{found[0]['fold_accuracy_true_labels']:.4f}; " +
                          ", ".join(f"{d['filter_by']} P {d['precision']:.3f} R {d['recall']:.3f}" for d in found) +
                          f" ({timings[f'detection_{_tag(setting)}_s']:.0f} s)", flush=True)
    timings["study_s"] = time.perf_counter() - t0
    table, clean = _summaries(cfg, runs, clean_runs)
    figures = []
    if runs or clean_runs:
        figures.append(("accuracy_curves.png", lambda: plot.noisy_curves(runs or clean_runs, "accuracy_curve",
                                                                          "test accuracy", clean_runs if runs else None)))
    if runs:
        figures.append(("label_precision.png", lambda: plot.noisy_curves(runs, "label_precision_curve",
                                                                          "label precision of kept samples")))
    out.text("report.md", _report(cfg, table, clean, detection))
    for name, make in figures:
        out.figure(name, make())
    for r in runs + clean_runs:
        r.pop("history")  # curves are kept; the full records are large
    return {"metrics": {"table": table, "clean": clean, "detection": detection},
            "runs": runs, "clean_runs": clean_runs, "timings": timings,
            "sizes": {"train": len(y_tr), "test": len(y_te), "classes": num_classes}}


def _fmt(ms: Dict[str, float], scale: float = 100.0) -> str:
    return f"{scale * ms['mean']:.2f} ± {scale * ms['std']:.2f}" if ms["n"] > 1 else f"{scale * ms['mean']:.2f}"


def _report(cfg, table, clean, detection) -> str:
    lines = [f"# {cfg['name']}: noisy-label filters", ""]
    if table or clean:
        lines += [f"Dataset {cfg['data']['dataset']}, seeds {cfg['seeds']}, {cfg['train']['epochs']} epochs, "
                  f"channels {cfg['train']['channels']}. Test accuracy (%) mean ± std over seeds.", ""]
    else:
        lines += [f"Dataset {cfg['data']['dataset']}: label-issue detection only (no filter training).", ""]
    if clean:
        lines += [f"Clean labels (same budget): last {_fmt(clean['last'])}, best {_fmt(clean['best'])}.", ""]
    settings = list(dict.fromkeys(r["noise"] for r in table))
    if table:
        lines += ["| strategy | " + " | ".join(f"{s} last | {s} best" for s in settings) + " |",
                  "|---|" + "---|---|" * len(settings)]
        for strategy in dict.fromkeys(r["strategy"] for r in table):
            cells = []
            for s in settings:
                r = next(t for t in table if t["noise"] == s and t["strategy"] == strategy)
                cells += [_fmt(r["last"]), _fmt(r["best"])]
            lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
        lines += ["", "Wall time per run (s):", "",
                  "| strategy | " + " | ".join(settings) + " |", "|---|" + "---|" * len(settings)]
        for strategy in dict.fromkeys(r["strategy"] for r in table):
            cells = [f"{next(t for t in table if t['noise'] == s and t['strategy'] == strategy)['seconds']['mean']:.0f}"
                     for s in settings]
            lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    if detection:
        fold = _fold_options(cfg)
        lines += ["", f"Label-issue detection against the planted noise (first seed; {cfg['detection']['folds']}-fold "
                  f"cross-training, {fold['epochs']} epochs, "
                  f"channels {fold['channels']}, lr {fold['lr']}; fold acc. = out-of-fold accuracy on the true "
                  "labels):", "",
                  "| noise | filter_by | precision | recall | F1 | flagged | corrupted | est. noise rate | fold acc. |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for d in detection:
            lines.append(f"| {d['noise']} | {d['filter_by']} | {d['precision']:.3f} | {d['recall']:.3f} | "
                         f"{d['f1']:.3f} | {d['flagged']} | {d['corrupted']} | {d['estimated_noise_rate']:.3f} | "
                         f"{d['fold_accuracy_true_labels']:.4f} |")
    if table or clean:
        lines += ["", "![accuracy](accuracy_curves.png)"]
    if table:
        lines += ["", "![label precision](label_precision.png)"]
    lines.append("")
    return "\n".join(lines)


class NoisyLabels(Study):
    name = "noisy_labels"
    DEFAULTS = DEFAULTS
    APPLIES = APPLIES

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        return run(cfg, out)
