"""lenet_keras.workers: to_mnist in worker processes gives what to_mnist gives, in the same order."""

import numpy as np
import pytest

from lenet_keras import workers
from lenet_keras.negatives import make_negatives
from lenet_keras.runtime.images import to_mnist


def _pictures(n, seed=0):
    rng = np.random.default_rng(seed)
    pictures = []
    for i in range(n):  # dark strokes of several sizes on white paper, one blank page
        picture = np.full((rng.integers(20, 90), rng.integers(20, 90)), 255, np.uint8)
        if i != 3:
            y, x = rng.integers(2, 12, size=2)
            picture[y : -y or None, x : x + 4] = rng.integers(0, 120)
        pictures.append(picture)
    return pictures


def test_workers_give_to_mnists_images_in_order(monkeypatch):
    monkeypatch.setattr(workers, "MIN_PARALLEL", 0)
    pictures = _pictures(9)
    expected = np.stack([to_mnist(p) for p in pictures])
    out = workers.map_to_mnist(pictures, workers=2)
    assert out.dtype == np.uint8 and out.shape == (9, 28, 28)
    assert np.array_equal(out, expected)
    assert not out[3].any()  # the blank page stays blank
    assert workers.map_to_mnist([], workers=2).shape == (0, 28, 28)


def test_negatives_are_the_same_with_any_number_of_workers(monkeypatch):
    monkeypatch.setattr(workers, "MIN_PARALLEL", 0)
    one, kinds_one = make_negatives(40, seed=3, workers=1)
    two, kinds_two = make_negatives(40, seed=3, workers=2)
    assert np.array_equal(one, two) and np.array_equal(kinds_one, kinds_two)


def test_a_failing_worker_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(workers, "MIN_PARALLEL", 0)
    with pytest.raises(RuntimeError, match="a to_mnist worker failed"):
        workers.map_to_mnist([np.zeros((8, 8), object)] * 4, workers=2)  # to_mnist refuses object arrays
