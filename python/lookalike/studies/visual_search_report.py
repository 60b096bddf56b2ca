"""The visual-search study's figures and report.md (text and plots only; the numbers come from
the study)."""
from __future__ import annotations

from typing import Any, Dict, List

from .. import plot
from .base import Output

_RETRIEVAL = ["precision_at_1", "recall_at_1", "recall_at_10", "r_precision", "map_at_r"]


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else ("–" if v is None else str(v))


def _row(m: Dict[str, Any], cfg: Dict[str, Any]) -> Dict[str, Any]:
    """The columns of one run: retrieval among the test classes, then what else applies."""
    ks = [f"recall_at_{k}" for k in cfg["eval"]["k"]]
    r = m["retrieval"]
    row = {"P@1": r["precision_at_1"], **{f"R@{k.split('_')[-1]}": r[k] for k in ks},
           "R-prec": r["r_precision"], "MAP@R": r["map_at_r"]}
    for key, label in (("catalogue_unseen", "cat unseen"), ("catalogue_seen", "cat seen"),
                       ("instance", "re-shot")):
        if key in m:
            for k, v in m[key].items():
                if k.startswith("recall_at_"):
                    row[f"{label} @{k.split('_')[-1]}"] = v
    row["dim"] = m["embedding_dim"]
    row["train s"] = round(m["train_s"], 1)
    return row


def _table(rows: Dict[str, Dict[str, Any]], first: str) -> List[str]:
    cols = list(next(iter(rows.values())))
    out = [f"| {first} | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    return out + [f"| {name} | " + " | ".join(_fmt(r[c]) for c in cols) + " |" for name, r in rows.items()]


def plots_and_report(cfg: Dict[str, Any], report: Dict[str, Any], out: Output) -> None:
    metrics = report["metrics"]
    models = {n: _row(m, cfg) for n, m in metrics.items() if not n.startswith("loss:")}
    losses = {n[len("loss:"):]: _row(m, cfg) for n, m in metrics.items() if n.startswith("loss:")}
    keys = ["P@1", "R-prec", "MAP@R"] + [k for k in next(iter(models.values())) if k.startswith(("cat", "re-shot"))]
    out.figure("models.png", plot.grouped_bars({n: {k: r[k] for k in keys} for n, r in models.items()},
                                               f"{cfg['name']}: models (test classes unseen in training)"))
    if losses:
        out.figure("losses.png", plot.grouped_bars({n: {k: r[k] for k in keys} for n, r in losses.items()},
                                                   f"{cfg['name']}: losses, {cfg['loss_table']['model']}"))
    if report["histories"]:
        out.figure("val_map_at_r.png", plot.metric_curves(report["histories"], "val_map_at_r",
                                                          "validation MAP@R (training classes' held-out photos)"))
    s = report["sizes"]
    lines = [f"# {cfg['name']}: visual search (zero-shot class split)", "",
             f"Set `{cfg['data']['set']}` at {cfg['data']['image_size']} px: {s['train_classes']} training classes "
             f"({s['train']} photos, {s['val']} for validation), {s['test_classes']} test classes never seen in "
             f"training ({s['test']} photos, searched among themselves). Seed {cfg['seed']}.", ""]
    if "catalogue" in s:
        lines += [f"Catalogue: each test photo searches the {s['catalogue']} catalogue images (all classes); "
                  f"`cat unseen @k` is its accuracy@k for the test classes, `cat seen @k` for the "
                  f"{s['seen_class_test']} test photos of training classes.", ""]
    if cfg["instance"]["enabled"]:
        lines += ["`re-shot @k`: one simulated re-shot photo (crop, mirror, background, colour, JPEG) of each "
                  "test image searches the test images; recall@k of its original.", ""]
    lines += ["## Models", ""] + _table(models, "model") + [""]
    for m in cfg["models"]:
        tr = "not trained" if m["train"] is None else "trained (shared `train` options" + (
            f", overrides {m['train']})" if m["train"] else ")")
        lines.append(f"- `{m['name']}`: {m['net']}; {tr}")
    if losses:
        t = cfg["loss_table"]
        lines += ["", f"## Losses ({t['model']}: same backbone, epochs, sampler, seed)", ""] + _table(losses, "loss")
        lines += ["", "Miners: " + (", ".join(f"{k}: {v}" for k, v in (t["miners"] or {}).items()) or "none")]
    lines += ["", "Shared training options: " + ", ".join(
        f"{k}={v}" for k, v in cfg["train"].items() if k in ("epochs", "batch_size", "optimizer", "lr", "sampler",
                                                              "samples_per_class", "augment", "loss", "miner",
                                                              "backbone_lr_factor", "freeze_stages"))]
    lines += ["", "![models](models.png)"] + (["", "![losses](losses.png)"] if losses else [])
    out.text("report.md", "\n".join(lines) + "\n")
