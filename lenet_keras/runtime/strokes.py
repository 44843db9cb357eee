"""Bring a digit's strokes to the width of MNIST's pen: thin lines widened, marker strokes narrowed, outlines filled.

MNIST's strokes are 2.8 px wide (median; 2.1-4.1 px for 90% of the digits) in its 20 px box, measured
as below on the training digits 50,000-54,999. A digit drawn with a 1-px brush or a fine pen and
photographed large comes out of the 20 px scaling as a faint line a fraction of a pixel wide, which the
model read as "1" (MNIST test digits redrawn with a 1-px pen on a 280 px canvas: 14.7% read right).
"""

import numpy as np

from lenet_keras.runtime.masks import border_pixels, bounds, erode, label, rank_filter

__all__ = ["stroke_width", "match_pen", "is_blot", "fill_outlines"]

MNIST_WIDTH = 2.8 / 20  # MNIST's median stroke width, as a fraction of the digit box's long side
THIN, THICK = 0.6, 2.5  # of MNIST's width: strokes outside this range are brought back into it
BOLD_TARGET = 1.3  # of MNIST's width: what a marker stroke is narrowed to (MNIST's own 75th percentile)
# Of the digit's box: wider "strokes" than this are a blot. Real digits measure at most 0.42 (MNIST test, an 8),
# 0.40 (USPS, a 0) and 0.33 (Semeion); 99.9% of each under 0.35. A solid disc measures 0.5.
BLOT = 0.45
# Outlines (MNIST-C's canny edges, a bubble digit): thin lines around each stroke. Lines this thin (px, or of
# MNIST's width in a bigger box) may be outlines; 90% of MNIST's validation digits measure over 2.3 px.
OUTLINE_LINE = (2.2, 0.8)
OUTLINE_HOLE = 1.3  # of MNIST's width: an enclosed hole no wider than this, and
HOLE_LENGTH = 3  # at least this many times as long as it is wide, is the inside of an outlined stroke,
OUTLINE_SHARE = 0.9  # if this share of the ink lies along such holes (a 9's tail, a 6's does not)


def stroke_width(mask):
    """Mean stroke width in pixels of a bool mask: twice its area over the pixels its edge holds.

    A stroke of width w and length L has area w L and loses 2 L pixels to a one-pixel erosion,
    so w = 2 area / (area - eroded area). A 1-px line reads as 2 (it cannot lose more than itself).
    """
    area = int(mask.sum())
    edge = area - int(erode(mask).sum())
    return 2 * area / edge if edge else 0.0


def match_pen(ink):
    """Digit ink (h, w) in 0..1, cropped to its box -> ink whose strokes have MNIST's width relative to the
    box (padded when widened: crop it again).

    Widening is a grey max filter and narrowing a grey min filter, so strokes keep their soft edges.
    """
    if not ink.any():
        return ink
    target = MNIST_WIDTH * max(ink.shape)
    width = stroke_width(ink > 0.5 * float(ink.max()))
    if width < THIN * target:
        k = 2 * int(round((target - width) / 2)) + 1  # odd, so the stroke stays where it was
        return rank_filter(np.pad(ink, k // 2), k, np.max)  # padded: room for the strokes to grow
    if width > THICK * target:
        # A small solid blob (a dot drawn with a marker) measures as wide as itself: a filter that wide would
        # erase it all. Narrow it only as far as its strokes survive (keep half their ink's strength).
        widest = 2 * int(round((width - BOLD_TARGET * target) / 2)) + 1
        for k in range(widest, 1, -2):
            narrowed = rank_filter(ink, k, np.min)
            if narrowed.max() >= 0.5 * float(ink.max()):
                return narrowed
    return ink


def is_blot(ink):
    """True for ink with no strokes in it, cropped to its box: a solid, roundish shape (a dot, a blot, a stray
    click on a drawing pad), whose width measured as strokes is near half its box (a solid disc's is half)."""
    if not ink.any():
        return False
    return stroke_width(ink > 0.5 * float(ink.max())) > BLOT * max(ink.shape)


def _holes(mask):
    """Bool mask -> the 4-connected regions off the mask that do not reach its border: (labels, ids)."""
    holes, count = label(~mask, connectivity=4)
    ids = np.setdiff1d(np.arange(1, count + 1), border_pixels(holes))
    return holes, ids


def fill_outlines(ink):
    """Digit ink (h, w) in 0..1, cropped to its box, drawn as outlines (thin lines around each stroke) -> the
    strokes filled; other ink as it is. Outlined, a 1 is a thin ring and read as 0 or 8, and the model read
    MNIST-C's canny-edge digits 62% right. An outline's holes are the strokes' insides, long and no wider
    than a stroke, and all its lines run along them; a small loop (an 8's, a 9's) is round, and a tail runs
    along no hole. A narrow 0 drawn with 2-px lines is the shape of an outlined 1: lines that measure 2 px
    must lie within 1 px of the hole, which 2-px lines do not (USPS's narrow 0s keep their holes)."""
    if not ink.any():
        return ink
    mask = ink > 0.5 * float(ink.max())
    target = MNIST_WIDTH * max(ink.shape)
    width = stroke_width(mask)
    if width > max(OUTLINE_LINE[0], OUTLINE_LINE[1] * target):
        return ink
    holes, ids = _holes(mask)
    inside = np.zeros(mask.shape, bool)
    for k in ids:
        hole = holes == k
        hole_width = stroke_width(hole)
        top, bottom, left, right = bounds(hole)
        length = max(bottom - top, right - left)
        if hole_width <= OUTLINE_HOLE * target and length >= HOLE_LENGTH * hole_width:
            inside |= hole
    if not inside.any():
        return ink
    # A 1-px line and a 2-px one both measure 2 (the edge is all of them): only the pixel next to the hole counts.
    reach = 1 if width < 3 else round(width)
    along = rank_filter(inside.astype(np.float32), 2 * reach + 1, np.max) > 0
    if float(along[mask].mean()) < OUTLINE_SHARE:
        return ink
    return np.where(inside, float(ink.max()), ink).astype(ink.dtype)
