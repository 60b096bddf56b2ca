"""Fashion-MNIST baseline: ConvNet trained by the C++ loop -> test accuracy -> embeddings ->
exact retrieval metrics of the test set against itself -> plots."""
from __future__ import annotations

from typing import Any, Dict

from .. import data, eval as ev, plot, train
from .base import Output, Study, subset

DEFAULTS: Dict[str, Any] = {
    "study": "fmnist_baseline",
    "name": "fmnist_baseline",
    "seed": 0,
    "threads": 0,
    "device": "cpu",
    "data": {
        "root": None,          # Fashion-MNIST folder; null: Debian's
        "train_limit": 0,      # stratified subset sizes; 0: all
        "test_limit": 0,
        "val_fraction": 0.05,  # of train, stratified, for per-epoch validation
    },
    "train": {k: v for k, v in train.default_options().items()
              if k not in ("seed", "threads", "device", "checkpoint_dir", "resume", "log_path")},
    "eval": {
        "k": [1, 10],
        "metric": "ip",
        "backend": "auto",
    },
    "plots": {
        "embedding_points": 3000,
    },
}


class FmnistBaseline(Study):
    name = "fmnist_baseline"
    DEFAULTS = DEFAULTS

    def run(self, cfg: Dict[str, Any], out: Output) -> Dict[str, Any]:
        seed = cfg["seed"]
        with out.timed("load"):
            x_train, y_train = data.fashion_mnist("train", cfg["data"]["root"])
            x_test, y_test = data.fashion_mnist("test", cfg["data"]["root"])
            x_train, y_train = subset(x_train, y_train, cfg["data"]["train_limit"], seed)
            x_test, y_test = subset(x_test, y_test, cfg["data"]["test_limit"], seed + 1)
            val = None
            if cfg["data"]["val_fraction"] > 0:
                val_idx, train_idx = data.random_split(len(y_train), cfg["data"]["val_fraction"], seed + 2,
                                                       labels=y_train)
                val = (x_train[val_idx], y_train[val_idx])
                x_train, y_train = x_train[train_idx], y_train[train_idx]

        with out.timed("train"):
            options = dict(cfg["train"], seed=seed, threads=cfg["threads"], device=cfg["device"],
                           log_path=str(out.path("train_log.jsonl")), checkpoint_dir=str(out.folder / "checkpoint"))
            result = train.fit(x_train, y_train, val=val, **options)
        result.model.save(str(out.path("model.pt")))

        with out.timed("embed"):
            test = result.model.evaluate(x_test, y_test, device=cfg["device"])
            emb = result.model.embed(x_test, device=cfg["device"])
        with out.timed("retrieval"):
            retrieval = ev.retrieval_metrics(emb, y_test, k=cfg["eval"]["k"], metric=cfg["eval"]["metric"],
                                             backend=cfg["eval"]["backend"])

        out.figure("training_curves.png",
                   plot.training_curves(result.history, title=f"{cfg['name']}: ConvNet on Fashion-MNIST"))
        out.figure("embeddings_pca.png", plot.embedding_pca(emb, y_test, data.FASHION_MNIST_CLASSES,
                                                            cfg["plots"]["embedding_points"], seed,
                                                            title="test embeddings (PCA)"))
        return {
            "metrics": {"test_accuracy": test["accuracy"], "test_loss": test["loss"],
                        "retrieval_test_vs_test": retrieval},
            "history": result.history,
            "sizes": {"train": len(y_train), "val": 0 if val is None else len(val[1]), "test": len(y_test)},
            "model": {"parameters": result.model.num_parameters(), **result.model.options},
        }
