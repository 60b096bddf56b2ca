import os
from pathlib import Path

import pytest
import torch

import lookalike

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fmnist_test():
    try:
        return lookalike.data.fashion_mnist("test")
    except OSError as e:  # pragma: no cover - bootstrap installs the dataset
        pytest.skip(f"Fashion-MNIST not installed: {e}")


@pytest.fixture(scope="session")
def small_set(fmnist_test):
    x, y = fmnist_test
    idx, _ = lookalike.data.random_split(len(y), 0.08, seed=0, labels=y)  # 800 images
    return x[idx], y[idx]


@pytest.fixture(scope="session", autouse=True)
def _threads():
    lookalike.set_threads(int(os.environ.get("LOOKALIKE_TEST_THREADS", "0")))
    torch.manual_seed(0)
