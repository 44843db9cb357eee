"""Non-digits for outlier exposure (negatives.py) and the targets they train towards."""

import numpy as np

from lenet_keras.data import DataConfig, targets, with_negatives
from lenet_keras.negatives import CHARACTERS, KINDS, font_files, make_negatives


def test_targets_are_one_hot_for_digits_and_uniform_for_non_digits():
    t = targets(np.array([3, -1, 0]))
    np.testing.assert_array_equal(t[0], np.eye(10)[3])
    np.testing.assert_allclose(t[1], np.full(10, 0.1))
    assert t.dtype == np.float32 and t.sum(axis=1).tolist() == [1.0, 1.0, 1.0]


def test_the_same_seed_gives_the_same_non_digits_in_mnist_form(mnist):
    _, (x_test, y_test) = mnist
    first, kinds = make_negatives(60, seed=5, digits=x_test[:100], labels=y_test[:100])
    again, _ = make_negatives(60, seed=5, digits=x_test[:100], labels=y_test[:100])
    np.testing.assert_array_equal(first, again)
    assert first.shape == (60, 28, 28) and first.dtype == np.uint8
    assert set(kinds.tolist()) <= set(range(len(KINDS))) and len(set(kinds.tolist())) >= 3
    inked = first[first.reshape(60, -1).any(axis=1)]
    assert (inked.max(axis=(1, 2)) > 200).all()  # full ink, as to_mnist makes it
    for image in inked:  # fitted into MNIST's 20x20 box (with LANCZOS's faint fringe)
        rows, columns = np.flatnonzero(image.max(axis=1) > 64), np.flatnonzero(image.max(axis=0) > 64)
        assert max(rows[-1] - rows[0], columns[-1] - columns[0]) + 1 <= 21


def test_nothing_tall_and_narrow_passes_for_a_non_digit(mnist):
    """A 1 is a tall narrow stroke; a scribble or a character drawn like one is never a negative."""
    negatives, _ = make_negatives(200, seed=1)
    for image in negatives[negatives.reshape(len(negatives), -1).any(axis=1)]:
        columns, rows = np.flatnonzero(image.max(axis=0) > 64), np.flatnonzero(image.max(axis=1) > 64)
        assert columns[-1] - columns[0] >= 9 or rows[-1] - rows[0] <= 15


def test_two_digits_side_by_side_come_out_of_to_mnist_as_two(mnist):
    """A pair written side by side keeps both digits through `to_mnist`, so it is a non-digit and not one clean
    digit: cut at fixed columns as before, 68% of 300 pairs came out as one digit, the other dropped as clutter.
    Two digits side by side fill the 20-px box's width and not its height."""
    from lenet_keras.negatives import _paper, _two_digits
    from lenet_keras.runtime.images import to_mnist

    _, (x_test, y_test) = mnist
    rng, wide = np.random.default_rng(3), []
    while len(wide) < 100:
        ink = _two_digits(rng, x_test[:500], y_test[:500])
        if ink is not None and ink.shape[1] > 28:  # side by side, not overlaid (None: one hid in the other)
            image = to_mnist(_paper(ink))
            columns, rows = np.flatnonzero(image.max(axis=0) > 64), np.flatnonzero(image.max(axis=1) > 64)
            wide.append(columns[-1] - columns[0] > rows[-1] - rows[0])
    assert np.mean(wide) >= 0.9


def test_an_overlay_where_one_digit_hides_in_the_other_is_not_a_negative(mnist):
    """Overlaid, a 3 in an 8 reads as the 8: a quarter of the overlays were that, and counted as non-digits.
    Each digit of a pair must show strokes of its own; a 1 through a 0's middle (a theta) does."""
    from lenet_keras.negatives import _both_show, _two_digits

    _, (x_test, y_test) = mnist
    eight, zero, one = (x_test[y_test == d][0] / 255.0 for d in (8, 0, 1))
    three_in_eight = eight * (np.arange(28) >= 14)  # the 8's right half: a 3 inside it
    assert not _both_show(eight, eight) and not _both_show(eight, three_in_eight)
    columns = np.flatnonzero(zero.max(axis=0) > 0.5)
    centred = np.roll(one, round(columns.mean() - np.flatnonzero(one.max(axis=0) > 0.5).mean()), axis=1)
    assert _both_show(zero, centred)
    rng = np.random.default_rng(0)
    drawn = [_two_digits(rng, x_test[:500], y_test[:500]) for _ in range(300)]
    overlaid = [ink for ink in drawn if ink is None or ink.shape[1] == 28]  # half are overlays
    hidden = sum(ink is None for ink in overlaid) / len(overlaid)
    assert 0.1 <= hidden <= 0.4, hidden  # about a quarter: drawn again by make_negatives


def test_training_and_held_out_fonts_do_not_overlap():
    training, held_out = set(font_files()), set(font_files(held_out=True))
    assert not training & held_out
    assert not set("0123456789OoIl|SsZzBgqλΛлЛ^") & set(CHARACTERS)  # nothing a digit could be written as


def test_with_negatives_adds_them_with_the_label_minus_one(mnist):
    (x_train, y_train), _ = mnist
    x, y = with_negatives(x_train[:500], y_train[:500], DataConfig(negatives=40))
    assert len(x) == len(y) == 540 and (y[500:] == -1).all() and (y[:500] == y_train[:500]).all()
    same_x, _ = with_negatives(x_train[:500], y_train[:500], DataConfig(negatives=0))
    assert len(same_x) == 500
