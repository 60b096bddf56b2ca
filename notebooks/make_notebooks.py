"""Writes the study notebooks from the cells below (so they diff as code). Run after editing:
    .venv/bin/python notebooks/make_notebooks.py
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

FMNIST = [
    new_markdown_cell(
        "# 01 · Fashion-MNIST baseline\n\n"
        "A ConvNet trained by lookalike's C++ loop, its test accuracy, and retrieval metrics of the "
        "test embeddings against themselves (pytorch-metric-learning definitions). "
        "`LOOKALIKE_SMALL=1` shrinks data and epochs (CI runs it that way); the full run is "
        "`make demo` (`lookalike run experiments/fmnist_baseline.yaml`)."),
    new_code_cell(
        "import os\n"
        "import lookalike\n"
        "from lookalike import plot\n\n"
        "SMALL = os.environ.get('LOOKALIKE_SMALL') == '1'\n"
        "lookalike.set_threads(0)  # torch, OpenMP/FAISS and OpenBLAS: all cores\n"
        "lookalike.build_info()"),
    new_code_cell(
        "x_train, y_train = lookalike.data.fashion_mnist('train')\n"
        "x_test, y_test = lookalike.data.fashion_mnist('test')\n"
        "if SMALL:\n"
        "    idx, _ = lookalike.data.random_split(len(y_train), 0.02, seed=0, labels=y_train)\n"
        "    x_train, y_train = x_train[idx], y_train[idx]\n"
        "    idx, _ = lookalike.data.random_split(len(y_test), 0.05, seed=1, labels=y_test)\n"
        "    x_test, y_test = x_test[idx], y_test[idx]\n"
        "val_idx, train_idx = lookalike.data.random_split(len(y_train), 0.05, seed=2, labels=y_train)\n"
        "x_train.shape, x_test.shape"),
    new_code_cell(
        "result = lookalike.fit(\n"
        "    x_train[train_idx], y_train[train_idx], val=(x_train[val_idx], y_train[val_idx]),\n"
        "    epochs=1 if SMALL else 10, batch_size=128, lr=2e-3, weight_decay=1e-4, augment='flip',\n"
        "    channels=[16, 32] if SMALL else [32, 64, 128], embedding_dim=128, seed=0, progress='off')\n"
        "result.history[-1]"),
    new_code_cell("plot.training_curves(result.history, title='ConvNet on Fashion-MNIST');"),
    new_code_cell(
        "test = result.model.evaluate(x_test, y_test)\n"
        "emb = lookalike.embed(result.model, x_test)\n"
        "metrics = lookalike.eval.retrieval_metrics(emb, y_test, k=(1, 10))\n"
        "print(f\"test accuracy {test['accuracy']:.4f}\")\n"
        "metrics"),
    new_code_cell(
        "plot.embedding_pca(emb, y_test, lookalike.data.FASHION_MNIST_CLASSES, max_points=2000);"),
]


def main() -> None:
    nb = new_notebook(cells=FMNIST, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, HERE / "01_fmnist_baseline.ipynb")


if __name__ == "__main__":
    main()
