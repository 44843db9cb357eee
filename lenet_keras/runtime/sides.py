"""Which side of an image is the paper, and what around the paper is neither paper nor digit.

A photo's paper is most of it, unless the sheet lies on a table that is; a small image (a scan cell, a
thumbnail, an array) is often a tight crop whose digit covers most of its border, and may keep its cell's
frame. `paper_side` returns the image less what is not paper or digit, and the paper's side;
`images.to_mnist` inverts it to light ink and goes on. Numpy only.
"""

import numpy as np

from lenet_keras.runtime.masks import border_pixels, bounds, label, median, on_border, runs
from lenet_keras.runtime.paper import PAGE, SMALL
from lenet_keras.runtime.strokes import stroke_width

__all__ = ["paper_side"]

BAND = 0.4  # of a small image's width or height: how far in from the border a band may reach
BAND_EDGE = 0.9  # of the rows (columns) that change side at a band edge; none of MNIST's test digits, its
# training digits 55,000-59,999, USPS's or Semeion's scans has one
BAND_MIXED = 0.05  # of the pixels inside the bands: at least this much of each side, or it is one bar (a fifth
# of it inside a frame)
SOLID = 0.97  # of a band's pixels ink: a frame, cut off
SHEET = 0.65  # of the middle of a photo (its middle half each way) on the other side than the whole: a sheet,
TABLE = 0.9  # if the other side makes this much of the photo's border (the table all round it),
SOLID_SHEET = 0.6  # the sheet with the digit in it fills this much of its box (a quadrilateral turned 20° does),
MIN_SHEET = 0.1  # its box is this much of the photo at least,
STROKES = 0.3  # and what is written on it has strokes at most this wide for its box (a round loop's are 0.5)
SHADOWED = 0.3  # of the way from the darkest pixel to the brightest: paper in a hand's shadow is brighter than this
RAGGED = 2  # px of the sampled photo (~256 px long): a run of table or paper this short on a side is the sheet's edge


def _inside_bands(bright):
    """A small image's rows and columns (top, bottom, left, right) inside any band: a run from the border to a
    straight edge that crosses the whole image (nearly every row changes side there). No stroke crosses a whole
    image so; a form cell's frame does, or inverted bands at the edges (MNIST-C's stripe), whose bright columns
    outvoted the dark paper and turned the digit into a block with a hole (15% of 300 read right)."""

    def edge(b):  # where the band at b's left ends, or 0
        reach = int(BAND * b.shape[1])
        changes = np.flatnonzero((b[:, :reach] != b[:, 1 : reach + 1]).mean(axis=0) >= BAND_EDGE)
        return int(changes[0]) + 1 if changes.size else 0

    h, w = bright.shape
    box = edge(bright.T), h - edge(bright[::-1].T), edge(bright), w - edge(bright[:, ::-1])
    core = bright[box[0] : box[1], box[2] : box[3]]
    # Between the edges of a bar (a "1" as tall as its crop) is the bar alone: that is not a band but the digit.
    # Bands of the image's minority side around its majority (a frame around paper) may hold a thin digit.
    frame = (core.mean() > 0.5) == (bright.mean() > 0.5)
    if min(core.mean(), 1 - core.mean()) < (BAND_MIXED / 5 if frame else BAND_MIXED):
        return 0, h, 0, w
    return box


def _without_frame(gray, ink, box):
    """A small image less its bands when they are a frame: a form cell's, which joined the digit as one
    component around it (15% of 100 MNIST digits in 48 px cells read right). Each band is solid ink, and a
    side without one has paper at its edge. MNIST-C's stripe is no frame: its bands have the digit's own
    edges inverted in them, or one is found and the other not, and find_ink drops such bands whole (cutting
    off the one found left the other beside the digit: 79% of 300 read right fell to 61%)."""
    top, bottom, left, right = box
    sides = ((ink[:top], ink[0]), (ink[bottom:], ink[-1]), (ink[:, :left], ink[:, 0]), (ink[:, right:], ink[:, -1]))
    for band, edge in sides:
        if band.size and float(band.mean()) < SOLID or not band.size and float(edge.mean()) >= 0.5:
            return gray
    return gray[top:bottom, left:right]


def _small(gray, middle):
    """A thumbnail or a tight crop: a bold 0 in a 16x16 USPS scan is mostly ink (the whole image's median took
    the hole for the digit: 23 USPS misreads), and a Semeion digit stretched to its 16x16 box covers most of the
    border (22 of 1,593). Their bright shares together are, inside any bands: paper is what both mostly are."""
    bright = gray > middle
    box = _inside_bands(bright)
    top, bottom, left, right = box
    inner = bright[top:bottom, left:right]
    paper_is_bright = float(border_pixels(inner).mean()) + float(inner.mean()) > 1
    return _without_frame(gray, bright != paper_is_bright, box), paper_is_bright


def _in_corners(table):
    """True if the table inside the sheet's box reaches each side of the box only from its corners, as around a
    turned quadrilateral; around a bold digit's strokes it reaches in between them too (an 8's waist). Runs of
    RAGGED pixels or fewer, of table or of paper, are the sheet's own edge, grey where it meets the table."""
    for side in (table[0], table[-1], table[:, 0], table[:, -1]):
        _, starts, ends = runs(~side[np.newaxis])  # the side's paper
        paper = ends - starts > RAGGED
        if not paper.any():
            continue
        _, starts, ends = runs(side[starts[paper][0] : ends[paper][-1]][np.newaxis])  # table between the paper
        if (ends - starts > RAGGED).any():
            return False
    return True


def _commonest(labels):
    """The commonest non-zero label of a labelled array that holds one."""
    return int(np.argmax(np.bincount(labels[labels > 0])))


def _holds_strokes(holes):
    """True if the largest of the labelled holes in a sheet is strokes (a digit written on it), not a round blob:
    a bold digit's loop, which is what holds the middle of a photo of a bold digit on a white page."""
    if not holes.any():
        return False
    main = holes == _commonest(holes)
    top, bottom, left, right = bounds(main)
    return stroke_width(main) <= STROKES * max(bottom - top, right - left)


def _on_the_sheet(gray, middle, sheet_is_bright, step):
    """The photo cropped to the sheet in its middle, the table around the sheet (in the crop's corners, when
    the sheet is turned) painted with the sheet's own level; the digit's strokes, inside the sheet, stay.
    None when what holds the middle is no sheet on a table: the table must run all round the photo's border,
    and the sheet be a solid quadrilateral, not a digit's strokes (a tight crop's digit fills the middle too)."""
    small = gray[::step, ::step]
    side = (small > middle) == sheet_is_bright
    if float(border_pixels(side).mean()) > 1 - TABLE:
        return None
    labels, _ = label(side)
    h, w = small.shape
    sheet = labels == _commonest(labels[h // 4 : h - h // 4, w // 4 : w - w // 4])  # holding most of the middle
    level = float(median(small[sheet]))
    top, bottom, left, right = bounds(sheet)
    others, _ = label(~side[top:bottom, left:right])  # the table, and the ink on the sheet
    table = on_border(others)  # what reaches the crop's edge is not on the sheet
    if (
        float(table.mean()) > 1 - SOLID_SHEET
        or table.size < MIN_SHEET * small.size
        or not _in_corners(table)
        or not _holds_strokes(others * ~table)
    ):
        return None
    crop = gray[top * step : bottom * step, left * step : right * step].copy()
    crop[np.repeat(np.repeat(table, step, axis=0), step, axis=1)[: crop.shape[0], : crop.shape[1]]] = level
    return crop


def _mostly_bright(bright):
    """True if most of a photo is on the bright side, or its border is bright enough to outvote the rest as
    `_small` weighs them: a bold digit cropped tight is more than half ink, its border mostly paper (300 MNIST
    validation digits so at 100 px: 96.3% read right, 99.7% now)."""
    return float(bright.mean()) > 0.5 or float(border_pixels(bright).mean()) + float(bright.mean()) > 1


def paper_side(gray):
    """Grey image (H, W) float 0..255 -> (the image less what is neither paper nor digit, True if the paper is the
    bright side). In a photo the paper is the side most of the image is, or the bright side if the border
    outvotes the rest (its border alone is not a safe guess: a rotated photo's corners show the table), or
    the bright side with a shadow over most of a page counted as bright, unless the middle of the photo is
    mostly the other side, or the other side runs all round the border: a sheet or a note on a table, smaller
    than the photo or most of it. The table was taken for the paper and the note for
    ink then (10% of tests/photos.py's `sheet` photos read right). Only a bright note on a darker table: a
    bold dark digit in the middle of a white page is no note."""
    middle = (float(gray.min()) + float(gray.max())) / 2
    if max(gray.shape) < SMALL:
        return _small(gray, middle)
    step = max(1, max(gray.shape) // 256)
    sampled = gray[::step, ::step]
    bright = sampled > middle
    paper_is_bright = _mostly_bright(bright)
    h, w = gray.shape
    share = float(np.mean(gray[h // 4 : h - h // 4 : step, w // 4 : w - w // 4 : step] > middle))
    # Paper is brighter than the table under it: a dark middle on a bright page is a bold digit, not a sheet
    # (a 35 px marker on a 280 px page: the sheet rule took the digit for the sheet, 95.7% read right fell to 87.3%).
    # A note that fills most of the photo is most of it, but the table still runs all round its border (its
    # middle may be a bold digit's).
    table_all_round = float(border_pixels(bright).mean()) <= 1 - TABLE
    if (not paper_is_bright and share >= SHEET) or (paper_is_bright and table_all_round):
        sheet = _on_the_sheet(gray, middle, True, step)
        if sheet is not None:
            return sheet, True
    # A hand's shadow over most of a page can be darker than halfway from the ink to the paper: the shadow was
    # taken for the paper, and the page out of it for the digit. No sheet on a table, so the paper is bright
    # if it is so even with the shadow counted as bright (a dark-mode drawing's paper is darker than that).
    # Not in a picture too small to be a page: UCI's light digits enlarged to 64 px have grey edges that wide.
    if not paper_is_bright and max(gray.shape) >= PAGE:
        low = float(gray.min()) + SHADOWED * (float(gray.max()) - float(gray.min()))
        paper_is_bright = _mostly_bright(sampled > low)
    return gray, paper_is_bright
