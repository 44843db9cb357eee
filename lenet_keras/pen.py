"""Training variations of the pen and the page, which real handwriting has and a person reads through.

MNIST was written with one kind of pen and scanned one way: strokes 2-4 px wide of full ink on black.
People's digits come thinner or bolder, greyer or uneven along the stroke, with gaps, blurred, with a
speck or a line through them, on paper that is not quite black once inverted. Each variation here is
drawn per image, with its own probability, on a (B, H, W, 1) batch of ink (0 paper, 1 full ink), after
the geometric distortion (augment.py). The same stateless seed gives the same batch.
"""

import numpy as np
import tensorflow as tf

__all__ = ["VARIATIONS", "strike", "vary_pen"]


def _max_filter(x, k):
    return tf.nn.max_pool2d(x, k, 1, "SAME")


def _chance(seed, n, p):
    """(B, 1, 1, 1) float mask: 1 with probability p per image."""
    return tf.cast(tf.random.stateless_uniform([n, 1, 1, 1], seed) < p, tf.float32)


def _uniform(seed, n, lo, hi):
    return tf.random.stateless_uniform([n, 1, 1, 1], seed, lo, hi)


def _line_mask(seed, n, height, width, half_width):
    """(B, H, W, 1) in 0..1: a straight band of the given half width at a random angle and offset, anti-aliased."""
    angle_seed, offset_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    angle = _uniform(angle_seed, n, 0.0, np.pi)[..., 0]  # (B, 1, 1)
    offset = _uniform(offset_seed, n, -0.3, 0.3)[..., 0] * height  # through the digit's middle part
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = tf.abs((xs - width / 2) * tf.sin(angle) - (ys - height / 2) * tf.cos(angle) - offset)
    return tf.clip_by_value(half_width + 0.5 - distance, 0.0, 1.0)[..., tf.newaxis]


def _enlarging(size, cells):
    """(size, cells) matrix: `tf.image.resize`'s bilinear enlargement (half-pixel centres, edges clamped) of
    one axis. As matrix products the enlargement took a quarter of the time XLA's resize did on these CPUs."""
    source = np.clip((np.arange(size) + 0.5) * cells / size - 0.5, 0, cells - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, cells - 1)
    matrix = np.zeros((size, cells), np.float32)
    np.add.at(matrix, (np.arange(size), low), 1 - (source - low))
    np.add.at(matrix, (np.arange(size), high), source - low)
    return matrix


def _smooth_field(seed, n, height, width, lo, hi, cells=4):
    """(B, H, W, 1) a smooth random field in [lo, hi]: noise on a cells x cells grid, bilinearly enlarged."""
    coarse = tf.random.stateless_uniform([n, cells, cells, 1], seed, lo, hi)
    return tf.einsum("yi,bijc,xj->byxc", _enlarging(height, cells), coarse, _enlarging(width, cells))


def _width(ink, s, n, h, w):
    """Pen width: a felt tip is 2-3 px wider than MNIST's pen after scaling, a fine pen 1 px narrower; mixed
    with the original by a random amount, so widths in between occur and edges stay grey."""
    thicker = _max_filter(ink, 3)
    thinner = -_max_filter(-ink, 2)  # a 2x2 minimum: one pixel off a stroke's width
    amount = _uniform(s[0], n, 0.3, 1.0)
    bold = _chance(s[1], n, 0.5)
    return ink + amount * (bold * (thicker - ink) + (1 - bold) * (thinner - ink))


def _grey(ink, s, n, h, w):
    """Ink that varies along the stroke (pencil, a drying pen): a smooth field between 0.45 and 1."""
    return ink * _smooth_field(s[0], n, h, w, 0.45, 1.0)


def _gap(ink, s, n, h, w):
    """A gap in a stroke: a thin band through the digit with no ink."""
    return ink * (1 - _line_mask(s[0], n, h, w, _uniform(s[1], n, 0.4, 1.0)[..., 0]))


def _blur(ink, s, n, h, w):
    """Blur: a scan out of focus, a soft pencil."""
    return ink + _uniform(s[0], n, 0.3, 1.0) * (tf.nn.avg_pool2d(ink, 3, 1, "SAME") - ink)


def _line(ink, s, n, h, w):
    """A thin line crossing the digit (what is left of a ruled line, a strike), fainter than the digit."""
    return tf.maximum(ink, _line_mask(s[0], n, h, w, 0.3) * _uniform(s[1], n, 0.25, 0.7))


def _specks(ink, s, n, h, w):
    """Specks and a paper that is not quite black: sparse dots and a low, uneven background."""
    dots = tf.cast(tf.random.stateless_uniform([n, h, w, 1], s[0]) < 0.002, tf.float32)
    return tf.maximum(ink, tf.maximum(0.5 * dots, _smooth_field(s[1], n, h, w, 0.0, 0.1)))


# Each variation and its chance per image, relative to the recipe's `pen` probability: gaps and lines are
# rarer in real writing than a different pen.
VARIATIONS = {"width": 1.0, "grey": 1.0, "gap": 0.5, "blur": 1.0, "line": 1 / 3, "specks": 0.5}
_APPLY = {"width": _width, "grey": _grey, "gap": _gap, "blur": _blur, "line": _line, "specks": _specks}


@tf.function(jit_compile=True, autograph=False)  # traced per image size: the masks need static shapes
def _vary(ink, seed, p, names):
    n, h, w = tf.shape(ink)[0], ink.shape[1], ink.shape[2]
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 3 * len(VARIATIONS)))
    for k, name in enumerate(VARIATIONS):
        if name in names:  # a Python loop: `names` is fixed when the function is traced
            chance = _chance(seeds[3 * k], n, p * VARIATIONS[name])
            ink = ink + chance * (_APPLY[name](ink, seeds[3 * k + 1 : 3 * k + 3], n, h, w) - ink)
    return tf.clip_by_value(ink, 0.0, 1.0)


def vary_pen(ink, probability, seed, names=tuple(VARIATIONS)):
    """The pen and page variations of a (B, H, W, 1) batch of ink in 0..1. Each of `names` is applied to an
    image with chance probability x VARIATIONS[name] (0: the batch unchanged)."""
    if not probability:
        return ink
    return _vary(ink, tf.cast(seed, tf.int64), tf.constant(float(probability)), tuple(names))


@tf.function(jit_compile=True, autograph=False)
def _strike(ink, seed, p):
    """A zigzag of full ink drawn across the digit (a scribbled strike, MNIST-C's zigzag) with chance p per
    image: teeth 1-2.5 px high every 3-8 px, 0.8-2.2 px wide, at any angle. The digit's own ink is kept; the
    model has to read it through the line. Teeth only: a straight full-ink line is a stroke of some digit
    (15-epoch runs with a quarter of them straight read MNIST validation 99.16% where teeth only read 99.24%,
    seed 0). Not one of VARIATIONS: it is off in the default recipe (DataConfig.strike; the README's
    "Training with a zigzag across the digit" says why, docs/experiments.md has the seeds)."""
    n, h, w = tf.shape(ink)[0], ink.shape[1], ink.shape[2]
    s = tf.unstack(tf.random.experimental.stateless_split(seed, 8))
    angle = _uniform(s[0], n, 0.0, np.pi)[..., 0]  # (B, 1, 1)
    offset = _uniform(s[1], n, -0.3, 0.3)[..., 0] * h  # through the digit's middle part
    height = _uniform(s[2], n, 1.0, 2.5)[..., 0]
    period = _uniform(s[3], n, 3.0, 8.0)[..., 0]
    phase = _uniform(s[4], n, 0.0, 1.0)[..., 0]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - w / 2, ys - h / 2
    along = dx * tf.cos(angle) + dy * tf.sin(angle)
    across = dy * tf.cos(angle) - dx * tf.sin(angle)
    t = along / period + phase
    teeth = offset + height * (4 * tf.abs(t - tf.floor(t + 0.5)) - 1)  # a triangle wave, slope 4 height / period
    distance = tf.abs(across - teeth) / tf.sqrt(1 + (4 * height / period) ** 2)  # about, across the slope
    line = tf.clip_by_value(_uniform(s[5], n, 0.4, 1.1)[..., 0] + 0.5 - distance, 0.0, 1.0)[..., tf.newaxis]
    struck = tf.maximum(ink, line * _uniform(s[6], n, 0.7, 1.0))
    return ink + _chance(s[7], n, p) * (struck - ink)


def strike(ink, probability, seed):
    """A (B, H, W, 1) batch of ink in 0..1 with a zigzag of full ink across each image with chance `probability`
    (0: the batch unchanged). The same stateless seed gives the same batch."""
    if not probability:
        return ink
    return _strike(ink, tf.cast(seed, tf.int64), tf.constant(float(probability)))
