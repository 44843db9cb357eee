"""lenet_keras.runtime.masks, checked against scipy.ndimage, which predict does not import (slow to load)."""

import numpy as np
import pytest

from lenet_keras.runtime.masks import bounds, dilate, label, median, on_border, rank_filter, thin_part

ndimage = pytest.importorskip("scipy.ndimage")


@pytest.mark.parametrize("connectivity", [8, 4])
@pytest.mark.parametrize("density", [0.1, 0.4, 0.6])
def test_label_finds_the_same_components_as_scipy(density, connectivity):
    rng = np.random.default_rng(0)
    structure = np.ones((3, 3)) if connectivity == 8 else ndimage.generate_binary_structure(2, 1)
    for shape in [(1, 1), (1, 30), (30, 1), (37, 53), (64, 64)]:
        mask = rng.random(shape) < density
        labels, count = label(mask, connectivity)
        expected, expected_count = ndimage.label(mask, structure=structure)
        assert count == expected_count
        assert np.array_equal(labels > 0, mask)
        pairs = set(zip(labels[mask].tolist(), expected[mask].tolist(), strict=True))
        assert len(pairs) == count  # one to one: the same partition, whatever the numbering


def test_bounds_and_on_border_match_scipy():
    mask = np.random.default_rng(3).random((37, 53)) < 0.3
    labels, count = label(mask)
    for i, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        assert bounds(labels == i) == (rows.start, rows.stop, cols.start, cols.stop)
    touching = {
        i
        for i, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1)
        if rows.start == 0 or cols.start == 0 or rows.stop == 37 or cols.stop == 53
    }
    assert np.array_equal(on_border(labels), np.isin(labels, list(touching)))


@pytest.mark.parametrize("r", [1, 2, 5])
def test_dilate_matches_scipy(r):
    mask = np.random.default_rng(r).random((40, 31)) < 0.02
    expected = ndimage.binary_dilation(mask, structure=np.ones((2 * r + 1, 2 * r + 1)))
    assert np.array_equal(dilate(mask, r), expected)


def test_thin_part_is_the_1px_lines_and_no_wider_stroke():
    mask = np.zeros((20, 20), bool)
    mask[2, 1:19] = True  # a 1-px line
    mask[6:8, 1:19] = True  # a 2-px stroke
    np.fill_diagonal(mask[10:, :10], True)  # a 1-px diagonal, 8-connected
    thin = thin_part(mask)
    assert thin[2, 1:19].all() and not thin[6:8].any()
    assert thin[10:, :10][np.eye(10, dtype=bool)].all()


@pytest.mark.parametrize("size", [1, 2, 7, 64, 1001])
def test_median_is_numpys_median(size):
    rng = np.random.default_rng(size)
    for values in (rng.random(size, np.float32) * 255, rng.integers(0, 256, size, np.uint8), rng.random((size, 3))):
        assert median(values) == np.median(values)


@pytest.mark.parametrize("k", [1, 3, 7, 31, 61])
def test_rank_filter_matches_scipy_with_edges_repeated(k):
    rng = np.random.default_rng(k)
    for shape in [(1, 1), (5, 40), (40, 5), (37, 53)]:  # windows wider than the image too
        a = (255 * rng.random(shape)).astype(np.float32)
        assert np.array_equal(rank_filter(a, k, np.min), ndimage.minimum_filter(a, k, mode="nearest"))
        assert np.array_equal(rank_filter(a, k, np.max), ndimage.maximum_filter(a, k, mode="nearest"))
        mean = ndimage.uniform_filter(a.astype(np.float64), k, mode="nearest")
        assert rank_filter(a, k, np.mean).dtype == np.float32
        np.testing.assert_allclose(rank_filter(a, k, np.mean), mean, rtol=0, atol=1e-3)
