import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir():
    """The MNIST IDX folder: $LENET_MNIST_DIR, else ../shared/data/mnist beside the checkout."""
    folder = os.environ.get("LENET_MNIST_DIR") or (str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None)
    if not folder:
        pytest.skip("no MNIST copy: set LENET_MNIST_DIR to a folder with the four IDX files")
    return folder


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from lenet_keras.idx import load_mnist

    return load_mnist(mnist_dir)
