"""Digits as other hands write them and MNIST's writers rarely did: the continental 1.

MNIST's 1s are nearly all a single stroke. Much of Europe writes a 1 with a lead-in from its top down to
the left, often half as long as the digit. Given one (`with_lead_ins` on seed 0's 553 MNIST validation 1s),
the shipped model, trained without them, read 39.8% of them as 1, most of the rest as 7. `with_lead_ins`
gives a share of the training 1s a lead-in and brings them to MNIST's form through `to_mnist`, the path a
user's image takes, so the lead-in is normalised as a user's would be.
"""

import numpy as np
from PIL import Image, ImageDraw

from lenet_keras.workers import map_to_mnist

__all__ = ["ANGLE", "LENGTH", "lead_in", "stand_upright", "with_lead_ins"]

SCALE = 2  # drawn at 2x, so the stroke's edges are grey when to_mnist brings it back to 28x28
MARGIN = 8  # pixels of paper added on each side first: a long lead-in may reach past MNIST's 28x28
# The lead-in's angle below the horizontal and its length as a share of the digit's height. Never flatter:
# a flat bar on a 1 is a 7's.
ANGLE = (30.0, 60.0)
LENGTH = (0.3, 0.65)


def stand_upright(digit):
    """A raw MNIST 1 (28, 28) uint8, light ink on black -> (the 1 at SCALE with MARGIN, sheared so that its stem
    stands upright, as the hands that write a lead-in mostly write their 1s: a Pillow image; its top (x, y);
    its height; its stroke width)."""
    padded = np.pad(digit, MARGIN)
    side = padded.shape[0] * SCALE
    big = Image.fromarray(padded).resize((side, side), Image.Resampling.BILINEAR)
    strokes = np.asarray(big) > 127
    rows = np.flatnonzero(strokes.any(axis=1))
    height = rows[-1] - rows[0] + 1
    top, bottom = rows[rows >= rows[0] + 0.03 * height][0], rows[-1]  # just below the stroke's rounded top
    x0 = float(np.flatnonzero(strokes[top]).mean())
    slope = (float(np.flatnonzero(strokes[bottom]).mean()) - x0) / max(bottom - top, 1)  # columns per row
    upright = big.transform(
        big.size, Image.Transform.AFFINE, (1, slope, -slope * top, 0, 1, 0), Image.Resampling.BILINEAR
    )
    return upright, (x0, float(top)), height, strokes.sum() / height  # a 1 is one stroke: area over length


def lead_in(digit, rng, angle=ANGLE, length=LENGTH):
    """A raw MNIST 1 (28, 28) uint8 -> the 1 stood upright with a lead-in from its top down to the left at the
    stroke's width, as a dark-on-white picture (uint8, (28 + 2 MARGIN) x SCALE square). angle: its range in degrees
    below the horizontal; length: its range as a share of the digit's height."""
    upright, (x0, top), height, width = stand_upright(digit)
    angle, length = np.deg2rad(rng.uniform(*angle)), rng.uniform(*length) * height
    end = (x0 - length * np.cos(angle), top + length * np.sin(angle))
    ImageDraw.Draw(upright).line([end, (x0, top)], fill=255, width=max(1, round(width * rng.uniform(0.7, 1.0))))
    return 255 - np.asarray(upright)


def with_lead_ins(images, labels, share, seed=0, angle=ANGLE, length=LENGTH):
    """Raw MNIST images (N, 28, 28) uint8 and labels -> a copy where `share` of the 1s (a seeded draw) have a
    lead-in (`lead_in`, with its `angle` and `length` ranges), each in MNIST's form by `to_mnist`. share 0: the
    images themselves."""
    if not share:
        return images
    rng = np.random.default_rng([seed, 1])  # its own stream: the other draws from `seed` stay as they were
    ones = np.flatnonzero(labels == 1)
    chosen = ones[rng.random(len(ones)) < share]
    out = images.copy()
    out[chosen] = map_to_mnist([lead_in(images[i], rng, angle, length) for i in chosen])
    return out
