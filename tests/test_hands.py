"""Continental 1s in training (hands.py): only 1s change, by the share asked, reproducibly; the lead-in is ink
added from the 1's top down to its left, steeper than a 7's bar; and release 1.1's model, trained without
them, misreads such 1s (most as 7), the cause they are there for."""

from pathlib import Path

import numpy as np
import pytest

from lenet_keras.data import DataConfig, make_datasets
from lenet_keras.hands import ANGLE, LENGTH, lead_in, stand_upright, with_lead_ins
from lenet_keras.runtime.images import to_mnist
from lenet_keras.runtime.tflite import TFLiteClassifier

CLEAN_MODEL = Path(__file__).with_name("data") / "lenet5_int8_release_1.1.tflite"  # trained without them


@pytest.fixture(scope="module")
def digits(mnist):
    _, (x_test, y_test) = mnist
    return x_test[5000:6000], y_test[5000:6000]


def test_only_ones_change_by_the_share_and_the_same_seed_gives_the_same_images(digits):
    images, labels = digits
    out = with_lead_ins(images, labels, 0.5, seed=3)
    changed = (out != images).any(axis=(1, 2))
    assert not changed[labels != 1].any()
    ones = labels == 1
    assert 0.4 < changed[ones].mean() < 0.6  # half of them
    np.testing.assert_array_equal(with_lead_ins(images, labels, 0.5, seed=3), out)
    assert (with_lead_ins(images, labels, 0.5, seed=4) != out).any()
    assert with_lead_ins(images, labels, 0.0) is images


def test_a_lead_in_is_a_line_from_the_top_down_to_the_left(digits):
    """Against the 1 stood upright: the picture keeps its ink, and what it adds is a line from the 1's top down to
    the left, as steep as ANGLE says (a 7's flat bar never) and as long as LENGTH says."""
    images, labels = digits
    rng = np.random.default_rng(0)
    for one in images[labels == 1][:40]:
        upright, (x0, top), height, width = stand_upright(one)
        before = np.asarray(upright, np.float64)
        after = 255.0 - lead_in(one, rng)
        assert (after >= before - 1).all()  # only ink added
        ys, xs = np.nonzero(after - before > 127)
        assert len(ys) > 10 and (xs < x0 + width).all() and (ys > top - width).all()  # left of the top, below it
        slope = -np.polyfit(xs.astype(float), ys.astype(float), 1)[0]  # rows down per column leftwards
        lo, hi = np.tan(np.deg2rad(ANGLE))
        assert 0.8 * lo <= slope <= 1.25 * hi, slope
        reach = np.hypot(x0 - xs.min(), ys.max() - top)  # the pen's width past each end at most
        assert LENGTH[0] * height - width <= reach <= LENGTH[1] * height + width, (reach, height, width)


def test_the_clean_model_misreads_continental_ones(digits):
    """Release 1.1's model reads MNIST's own 1s; given a lead-in, over a fifth of them become another digit."""
    images, labels = digits
    ones = images[labels == 1]
    out = with_lead_ins(ones, np.ones(len(ones), np.int64), 1.0, seed=5)
    changed = (out != ones).any(axis=(1, 2))
    classifier = TFLiteClassifier(CLEAN_MODEL)
    assert np.mean(classifier.predict(np.stack([to_mnist(255 - o) for o in ones[changed]]))[0] == 1) > 0.97
    assert np.mean(classifier.predict(out[changed])[0] == 1) < 0.8


def test_the_recipe_gives_lead_ins_only_when_asked(mnist):
    config = DataConfig(limit=2000, augment=False, validation_size=500)
    plain = next(iter(make_datasets(config, mnist)[0]))[0].numpy()
    again = next(iter(make_datasets(config, mnist)[0]))[0].numpy()
    led = next(iter(make_datasets(DataConfig(limit=2000, augment=False, validation_size=500, lead_in=1.0), mnist)[0]))
    np.testing.assert_array_equal(plain, again)
    labels = led[1].numpy().argmax(axis=1)
    differs = np.abs(led[0].numpy() - plain).reshape(len(plain), -1).max(axis=1) > 0
    assert differs.any() and not differs[labels != 1].any()
