"""Digits as people draw them in a paint program or write them with a fine pen: MNIST digits redrawn
with a pen of a chosen width, on a large white canvas, digits that fill the frame or come in pieces, and
continental 1s (a lead-in from the top) beside 7s, drawn.

The pen: the MNIST digit enlarged, thresholded and thinned to its 1-px skeleton (Zhang & Suen 1984),
then widened to the pen's width. Numpy and Pillow only.

    python -m tests.strokes      # accuracy of the shipped int8 model on each kind, MNIST test 5000-5299
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPORT = range(5000, 5300)  # MNIST test indices, as tests/photos.py reports on


def _neighbours(m):
    """The 8 neighbours P2..P9 of every pixel (clockwise from north) of a bool image padded by one."""
    p = np.pad(m, 1)
    h, w = m.shape
    shifts = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
    return [p[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in shifts]


def skeleton(mask):
    """Zhang-Suen thinning of a bool mask to 1-px-wide lines."""
    m = mask.copy()
    while True:
        changed = False
        for step in (0, 1):
            n = _neighbours(m)
            count = sum(x.astype(np.int8) for x in n)
            ring = n + n[:1]
            transitions = sum((~a & b).astype(np.int8) for a, b in zip(ring[:-1], ring[1:], strict=True))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                c = ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                c = ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            remove = m & (count >= 2) & (count <= 6) & (transitions == 1) & c
            if remove.any():
                m &= ~remove
                changed = True
        if not changed:
            return m


def pen_digit(image, size=280, width=1, margin=0.15):
    """A 28x28 MNIST digit redrawn on a white size x size canvas with a pen `width` px wide, dark ink."""
    inner = round(size * (1 - 2 * margin))
    big = np.asarray(Image.fromarray(image).resize((inner, inner), Image.Resampling.BICUBIC)) > 127
    line = skeleton(big)
    if width > 1:
        line = np.asarray(Image.fromarray(line.astype(np.uint8) * 255).filter(_max_filter(width))) > 0
    canvas = np.zeros((size, size), bool)
    top = (size - inner) // 2
    canvas[top : top + inner, top : top + inner] = line
    return np.where(canvas, 20, 250).astype(np.uint8)


def _max_filter(width):
    from PIL import ImageFilter

    return ImageFilter.MaxFilter(width if width % 2 else width + 1)


def frame_filling(image, size=64):
    """The digit's box stretched to fill the whole image, as a tight crop of a scan cell: dark on white."""
    rows, cols = np.flatnonzero(image.max(axis=1) > 0), np.flatnonzero(image.max(axis=0) > 0)
    box = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return 255 - np.asarray(Image.fromarray(box).resize((size, size), Image.Resampling.BICUBIC))


def cropped_tight(image, size=100):
    """The digit cropped to its ink and enlarged, its shape kept, to `size` px on the long side: dark on white, as
    a user crops a digit out of a photo. A bold digit's crop is more than half ink."""
    rows, cols = np.flatnonzero(image.max(axis=1) > 40), np.flatnonzero(image.max(axis=0) > 40)
    box = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = size / max(box.shape)
    shape = (max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale)))
    return 255 - np.asarray(Image.fromarray(box).resize(shape, Image.Resampling.BICUBIC))


def form_cell(image, size=48, frame=2, margin=2, tight=False):
    """The digit with a 3-px pen in a cell cut from a form with its frame: `frame` px of dark line at each
    side, `margin` px of paper inside it; `tight`, the digit reaches the frame."""
    inner = size - 2 * frame - 2 * margin
    cell = np.full((size, size), 255, np.uint8)
    cell[frame + margin : frame + margin + inner, frame + margin : frame + margin + inner] = pen_digit(
        image, inner, 3, margin=0.05 if tight else 0.15
    )
    cell[:frame], cell[-frame:], cell[:, :frame], cell[:, -frame:] = 40, 40, 40, 40
    return cell


def on_squared_paper(image, step=24, line=176, width=1, pen=4, size=600):
    """The digit with a `pen`-px pen, 360 px across, on size x size squared paper: lines `width` px wide every
    `step` px at grey level `line` (a school notebook's grid), dark ink on white."""
    page = np.full((size, size), 245, np.uint8)
    for o in range(width):
        page[o::step] = line
        page[:, o::step] = line
    digit = pen_digit(image, 360, pen)
    top = (size - 360) // 2
    inside = page[top : top + 360, top : top + 360]
    inside[...] = np.minimum(inside, digit)
    return page


def pen_one(angle, length, pen=9, lean=0.0, size=200):
    """A continental 1 drawn with a pen on a white size x size canvas: a stem 140 px tall leaning right by
    `lean` (columns per row), and a lead-in from its top down to the left, `length` of the stem long at
    `angle` degrees below the horizontal."""
    image = Image.new("L", (size, size), 255)
    top, foot = (110 + lean * 70, 30), (110 - lean * 70, 170)
    a = np.deg2rad(angle)
    end = (top[0] - length * 140 * np.cos(a), top[1] + length * 140 * np.sin(a))
    ImageDraw.Draw(image).line([end, top, foot], fill=0, width=pen, joint="curve")
    return np.asarray(image)


def pen_seven(bar, slope, pen=9, lean=0.0, size=200):
    """A 7 drawn with a pen: a top bar `bar` px long rising `slope` degrees to its right end, then a stem down
    to the left, further by `lean`."""
    image = Image.new("L", (size, size), 255)
    corner = (140, 30)
    start = (140 - bar, 30 + bar * np.tan(np.deg2rad(slope)))
    ImageDraw.Draw(image).line([start, corner, (100 - lean * 60, 170)], fill=0, width=pen, joint="curve")
    return np.asarray(image)


# Continental 1s and 7s, each drawn in many ways: what the lead-in of a 1 must not turn into, a 7's bar.
ONES = [(a, n, p, lean) for a in (35, 45, 55) for n in (0.35, 0.5, 0.6) for p in (5, 12) for lean in (0.0, 0.15)]
SEVENS = [(b, s, p, lean) for b in (60, 80) for s in (-10, 0, 10) for p in (5, 12) for lean in (0.0, 0.4)]


def main(argv):
    import os

    from lenet_keras.idx import load_mnist
    from lenet_keras.runtime.images import to_mnist
    from lenet_keras.runtime.tflite import TFLiteClassifier

    root = Path(__file__).resolve().parents[1]
    model = next((a for a in argv if a.endswith(".tflite")), root / "saved_models" / "lenet5_int8.tflite")
    _, (x, y) = load_mnist(os.environ.get("LENET_MNIST_DIR") or root.parent / "shared" / "data" / "mnist")
    classifier = TFLiteClassifier(model)
    kinds = {
        "1-px pen on a 280 px canvas": lambda i: pen_digit(i, 280, 1),
        "3-px pen on a 280 px canvas": lambda i: pen_digit(i, 280, 3),
        "2-px pen on a 1000 px page": lambda i: pen_digit(i, 1000, 2),
        "tight crop filling the frame (64 px)": frame_filling,
        "tight crop filling the frame (16 px)": lambda i: frame_filling(i, 16),
        "tight crop keeping its shape (100 px)": cropped_tight,
        "48 px form cell with its 2-px frame": form_cell,
        "the same, the digit touching the frame": lambda i: form_cell(i, margin=0, tight=True),
        "120 px form cell with its 3-px frame": lambda i: form_cell(i, 120, 3, 6),
        "4-px pen on squared paper, 1-px lines every 24 px": on_squared_paper,
        "5-px pen on squared paper, 1-px lines every 14 px": lambda i: on_squared_paper(i, 14, 185, 1, 5),
        "5-px pen on squared paper, 2-px lines every 30 px": lambda i: on_squared_paper(i, 30, 148, 2, 5),
    }
    print(f"| kind ({Path(model).name}) | read correctly |\n| --- | --- |")
    for name, make in kinds.items():
        seen = np.stack([to_mnist(make(x[i])) for i in REPORT])
        print(f"| {name} | {np.mean(classifier.predict(seen)[0] == y[list(REPORT)]):.1%} |")
    for name, digit, make, cases in (("continental 1s", 1, pen_one, ONES), ("7s", 7, pen_seven, SEVENS)):
        seen = np.stack([to_mnist(make(*case)) for case in cases])
        print(f"| {name} drawn with a pen, {len(cases)} ways | {np.mean(classifier.predict(seen)[0] == digit):.1%} |")


if __name__ == "__main__":
    main(sys.argv[1:])
