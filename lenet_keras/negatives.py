"""Images that are not a digit, made here (nothing downloaded), for a model that can say so.

Letters and symbols of several alphabets drawn from the machine's fonts, scribbles, two digits
overlaid or side by side, and textures, each turned into MNIST's form by `to_mnist`, the path a
user's image takes. Training (outlier exposure, Hendrycks et al. 2019) gives them a uniform target.
The fonts are split: TRAINING_FONTS make the training negatives, HELD_OUT_FONTS only the test ones.
Characters that are a digit's shape in some hand (O and 0, l and 1, S and 5, ...) are left out of both.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lenet_keras.runtime.masks import dilate
from lenet_keras.workers import map_to_mnist

__all__ = ["CHARACTERS", "font_files", "make_negatives", "KINDS"]

FONTS = Path("/usr/share/fonts")
TRAINING_FONTS = ("truetype/dejavu", "opentype/urw-base35")  # Debian: fonts-dejavu-core, fonts-urw-base35
HELD_OUT_FONTS = ("truetype/liberation", "truetype/freefont")  # Debian: fonts-liberation, fonts-freefont-ttf
# Shapes a person might write for a digit are not negatives: 0 O o D Q, 1 I l i j J | / ! ( ) [ ], 2 Z z,
# 3 З з, 4 Ч ч y, 5 S s, 6 b G б Ь ь Ъ ъ Ы ы, 7 T, 8 B, 9 g q, and the continental 1 with a long lead-in: λ Λ л Л ^
# (Semeion's writers' 1s). What is left is never a digit.
# Nor is anything tall and narrow (see _like_a_one): a scribble that came out as one stroke is a 1.
CHARACTERS = (
    "ACEFHKLMNPRUVWXYacdefhkmnprtuvwx"
    "+-=×÷%#@&?*<>~$€£"
    "ΓΔΘΞΠΣΦΨΩαβγδεζηθμξπστφψω"
    "БГДЖИПФЦШЩЭЮЯвгджипфцшщэюя"
)
KINDS = ("character", "scribble", "two digits", "texture", "blank")
SHARES = (0.4, 0.25, 0.15, 0.15, 0.05)  # of each kind among the negatives
CANVAS = 56  # drawn this small, under to_mnist's photo size, so each takes a millisecond, not twenty


def font_files(held_out=False):
    """The font files of one side of the split that exist on this machine (may be empty)."""
    folders = HELD_OUT_FONTS if held_out else TRAINING_FONTS
    return sorted(p for folder in folders for p in (FONTS / folder).glob("*") if p.suffix in (".ttf", ".otf"))


def _paper(ink):
    """Ink coverage (H, W) in 0..1 -> a dark-on-white uint8 image, as a user's picture would be."""
    return np.round(255 * (1 - np.clip(ink, 0, 1))).astype(np.uint8)


def _character(rng, fonts):
    font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), 40) if fonts else ImageFont.load_default(40)
    text = CHARACTERS[rng.integers(len(CHARACTERS))]
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(canvas).text((CANVAS / 2, CANVAS / 2), text, fill=255, font=font, anchor="mm")
    if canvas.getbbox() is None:  # a font without this character draws nothing, or a box
        return None
    angle = rng.uniform(-15, 15)
    return np.asarray(canvas.rotate(angle, Image.Resampling.BILINEAR), np.float32) / 255


def _scribble(rng):
    """A random pen path with sharp turns: 5 to 8 points (fewer often made a 7), a pen 2 to 5 px wide."""
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    points = [tuple(p) for p in rng.uniform(6, CANVAS - 6, size=(rng.integers(5, 9), 2))]
    ImageDraw.Draw(canvas).line(points, fill=255, width=int(rng.integers(2, 6)), joint="curve")
    return np.asarray(canvas, np.float32) / 255


def _ink_columns(digit):
    """A digit (28, 28) cut to the columns its ink spans."""
    columns = np.flatnonzero(digit.max(axis=0) > 0)
    return digit[:, columns[0] : columns[-1] + 1]


# Overlaid, each digit keeps at least this share of its ink more than a pixel away from the other's. Below it one
# digit hides in the other (a 3 in an 8, a 1 in a 7, a 6 in a 0) and the pair reads as the larger one: of 400
# overlays, a quarter fell below 0.25, and those looked like one digit, written with a few more strokes.
OWN_INK = 0.25


def _both_show(a, b):
    """True when each of two overlaid digits (28, 28) in 0..1 shows strokes of its own (OWN_INK)."""

    def own(ink, other):  # the share of ink more than a pixel from the other's
        return (ink & ~dilate(other, 1)).sum() / max(ink.sum(), 1)

    ink_a, ink_b = a > 0.5, b > 0.5
    return min(own(ink_a, ink_b), own(ink_b, ink_a)) >= OWN_INK


def _two_digits(rng, digits, labels):
    """Two different digits overlaid with a shift (each showing strokes of its own, `_both_show`; None where one
    hides in the other), or side by side as a number is written: strokes of several digits.

    Side by side, the two are 0 to 3 px apart (a tenth of their height at most), as close as to_mnist keeps a
    digit's pieces together. Cut at fixed columns, 68% of 300 such pairs came out of to_mnist as one clean digit
    (the other dropped as clutter, rightly for a user's crop), so a twentieth of the negatives were digits."""
    i = rng.integers(len(digits))
    others = np.flatnonzero(labels != labels[i])
    a, b = digits[i] / 255.0, digits[others[rng.integers(len(others))]] / 255.0
    if rng.random() < 0.5:
        dy, dx = rng.integers(-4, 5, size=2)
        b = np.roll(b, (dy, dx), axis=(0, 1))
        return np.maximum(a, b) if _both_show(a, b) else None
    edge, gap = np.zeros((28, 2)), np.zeros((28, rng.integers(0, 4)))
    return np.concatenate([edge, _ink_columns(a), gap, _ink_columns(b), edge], axis=1)


def _texture(rng):
    """Smooth random blobs: ink with no shape."""
    coarse = rng.random((6, 6)).astype(np.float32)
    field = np.asarray(Image.fromarray(coarse, "F").resize((CANVAS, CANVAS), Image.Resampling.BICUBIC))
    return (field > rng.uniform(0.5, 0.8)).astype(np.float32)


def _like_a_one(image):
    """True for a tall, narrow shape (under 9 of 28 columns): whatever drew it, a person could read a 1."""
    columns = np.flatnonzero(image.max(axis=0) > 64)
    rows = np.flatnonzero(image.max(axis=1) > 64)
    return len(columns) == 0 or (columns[-1] - columns[0] < 9 and rows[-1] - rows[0] > 15)


def _draw(kind, rng, fonts, digits, labels):
    """One non-digit's ink of `kind` (not "blank") (H, W) in 0..1, or None when the draw came out empty or, for
    two digits overlaid, one hid in the other."""
    if kind == "character":
        ink = _character(rng, fonts)
    elif kind == "scribble":
        ink = _scribble(rng)
    elif kind == "two digits":
        ink = _two_digits(rng, digits, labels)
    else:
        ink = _texture(rng)
    return None if ink is None or not ink.any() else ink


def make_negatives(n, seed=0, digits=None, labels=None, held_out=False, kinds=KINDS, workers=None):
    """n non-digits in MNIST's form -> (uint8 (n, 28, 28), kind index (n,) into KINDS).

    digits, labels: MNIST-form digits (M, 28, 28) uint8 and their labels, to overlay ("two digits";
    skipped without them).
    held_out: draw characters from HELD_OUT_FONTS instead of TRAINING_FONTS.
    workers: processes for to_mnist (workers.map_to_mnist; default one per core). The images are the same
    whatever the number: they are drawn in one seeded sequence, and the first n that pass are kept.
    """
    rng = np.random.default_rng(seed)
    fonts = font_files(held_out)
    kinds = [k for k in kinds if k != "two digits" or digits is not None]
    shares = np.array([SHARES[KINDS.index(k)] for k in kinds])
    images, kind_index = [], []
    while len(images) < n:
        drawn = []  # (kind, picture): a few more than are missing, as some turn out to be a 1's shape
        while len(drawn) < (n - len(images)) * 1.1 + 8:
            kind = kinds[rng.choice(len(kinds), p=shares / shares.sum())]
            if kind == "blank":  # a raw array with no ink, as `predict` never sends but a user's code may
                drawn.append((kind, None))
            elif (ink := _draw(kind, rng, fonts, digits, labels)) is not None:
                drawn.append((kind, _paper(ink)))
        prepared = iter(map_to_mnist([picture for kind, picture in drawn if kind != "blank"], workers))
        for kind, _ in drawn:
            image = np.zeros((28, 28), np.uint8) if kind == "blank" else next(prepared)
            if len(images) < n and (kind == "blank" or not _like_a_one(image)):
                images.append(image)
                kind_index.append(KINDS.index(kind))
    return np.stack(images) if images else np.zeros((0, 28, 28), np.uint8), np.array(kind_index, np.int64)
