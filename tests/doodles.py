"""Letters, symbols and doodles drawn as a person draws them in a paint program: a few strokes of one pen width.

negatives.py's characters come from fonts (strokes of varying width, serifs); a person's + or A or a little
house is a few straight or round strokes. Each shape here is a list of strokes in a unit square, drawn with
the points jittered, the whole turned, stretched and slanted, dark ink 3-10 px wide on a white 160 px canvas,
and read through `to_mnist` and the classifier, as `predict` reads a drawing. None of them is a digit's shape
(no bare ring, bar or hook). Training never sees these: they measure what the head learned from fonts,
scribbles and blobs.

    python -m tests.doodles [MODEL.tflite]     # refused share per shape, shipped int8 model by default
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SEED = 20_261_202  # never a training seed


def _arc(cx, cy, rx, ry, start, stop, n=12):
    t = np.deg2rad(np.linspace(start, stop, n))
    return list(zip((cx + rx * np.cos(t)).tolist(), (cy - ry * np.sin(t)).tolist(), strict=True))


SHAPES = {
    "+": [[(0.5, 0.1), (0.5, 0.9)], [(0.1, 0.5), (0.9, 0.5)]],
    "×": [[(0.15, 0.15), (0.85, 0.85)], [(0.85, 0.15), (0.15, 0.85)]],
    "=": [[(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.65), (0.9, 0.65)]],
    "÷": [[(0.1, 0.5), (0.9, 0.5)], [(0.5, 0.2), (0.52, 0.22)], [(0.5, 0.8), (0.52, 0.82)]],
    "#": [[(0.35, 0.1), (0.3, 0.9)], [(0.7, 0.1), (0.65, 0.9)], [(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.65), (0.9, 0.65)]],
    "*": [[(0.5, 0.1), (0.5, 0.9)], [(0.15, 0.3), (0.85, 0.7)], [(0.85, 0.3), (0.15, 0.7)]],
    "<": [[(0.8, 0.15), (0.2, 0.5), (0.8, 0.85)]],
    ">": [[(0.2, 0.15), (0.8, 0.5), (0.2, 0.85)]],
    "%": [[(0.8, 0.1), (0.2, 0.9)], _arc(0.25, 0.2, 0.1, 0.1, 0, 360, 10), _arc(0.75, 0.8, 0.1, 0.1, 0, 360, 10)],
    "&": [
        [(0.8, 0.9), (0.3, 0.35)] + _arc(0.45, 0.25, 0.15, 0.15, 200, -20, 8)
        + [(0.25, 0.7)] + _arc(0.4, 0.75, 0.15, 0.15, 180, 360, 8) + [(0.8, 0.5)]
    ],
    "@": [_arc(0.5, 0.5, 0.15, 0.15, 0, 360, 12), _arc(0.5, 0.5, 0.4, 0.4, 0, 330, 20)],
    "A": [[(0.1, 0.9), (0.5, 0.1), (0.9, 0.9)], [(0.28, 0.55), (0.72, 0.55)]],
    "E": [[(0.8, 0.1), (0.2, 0.1), (0.2, 0.9), (0.8, 0.9)], [(0.2, 0.5), (0.65, 0.5)]],
    "F": [[(0.8, 0.1), (0.2, 0.1), (0.2, 0.9)], [(0.2, 0.5), (0.65, 0.5)]],
    "H": [[(0.2, 0.1), (0.2, 0.9)], [(0.8, 0.1), (0.8, 0.9)], [(0.2, 0.5), (0.8, 0.5)]],
    "K": [[(0.2, 0.1), (0.2, 0.9)], [(0.8, 0.1), (0.2, 0.55), (0.8, 0.9)]],
    "M": [[(0.1, 0.9), (0.2, 0.1), (0.5, 0.6), (0.8, 0.1), (0.9, 0.9)]],
    "N": [[(0.2, 0.9), (0.2, 0.1), (0.8, 0.9), (0.8, 0.1)]],
    "W": [[(0.05, 0.1), (0.28, 0.9), (0.5, 0.3), (0.72, 0.9), (0.95, 0.1)]],
    "Y": [[(0.1, 0.1), (0.5, 0.5), (0.9, 0.1)], [(0.5, 0.5), (0.5, 0.9)]],
    "R": [[(0.2, 0.9), (0.2, 0.1)] + _arc(0.45, 0.3, 0.3, 0.2, 90, -90)[1:] + [(0.2, 0.5), (0.8, 0.9)]],
    "P": [[(0.2, 0.9), (0.2, 0.1)] + _arc(0.45, 0.3, 0.3, 0.2, 90, -90)[1:] + [(0.2, 0.5)]],
    "C": [_arc(0.5, 0.5, 0.35, 0.4, 45, 315, 16)],
    "e": [[(0.2, 0.55), (0.8, 0.55)] + _arc(0.5, 0.55, 0.3, 0.3, 10, 320, 16)[1:]],
    "h": [[(0.2, 0.9), (0.2, 0.05)], _arc(0.5, 0.55, 0.3, 0.2, 180, 0, 10) + [(0.8, 0.9)]],
    "k": [[(0.25, 0.05), (0.25, 0.9)], [(0.75, 0.35), (0.25, 0.65), (0.75, 0.9)]],
    "m": [
        [(0.1, 0.9), (0.1, 0.4)] + _arc(0.3, 0.5, 0.2, 0.15, 180, 0, 8) + [(0.5, 0.9)],
        _arc(0.7, 0.5, 0.2, 0.15, 180, 0, 8) + [(0.9, 0.9)],
    ],
    "n": [[(0.2, 0.9), (0.2, 0.4)] + _arc(0.5, 0.5, 0.3, 0.2, 180, 0, 10) + [(0.8, 0.9)]],
    "r": [[(0.3, 0.9), (0.3, 0.35)], _arc(0.55, 0.55, 0.25, 0.2, 170, 60, 8)],
    "u": [[(0.2, 0.3)] + _arc(0.5, 0.6, 0.3, 0.3, 180, 360, 10) + [(0.8, 0.3), (0.8, 0.9)]],
    "w": [[(0.05, 0.35), (0.28, 0.9), (0.5, 0.5), (0.72, 0.9), (0.95, 0.35)]],
    "smiley": [
        _arc(0.5, 0.5, 0.45, 0.45, 0, 360, 24),
        _arc(0.5, 0.55, 0.25, 0.2, 200, 340, 10),
        [(0.35, 0.35), (0.36, 0.37)],
        [(0.65, 0.35), (0.66, 0.37)],
    ],
    "star": [[(0.5, 0.05), (0.78, 0.95), (0.05, 0.38), (0.95, 0.38), (0.22, 0.95), (0.5, 0.05)]],
    "heart": [_arc(0.3, 0.3, 0.2, 0.2, 0, 200, 8) + [(0.5, 0.9), (0.9, 0.35)] + _arc(0.7, 0.3, 0.2, 0.2, -20, 180, 8)],
    "house": [[(0.15, 0.9), (0.15, 0.45), (0.5, 0.1), (0.85, 0.45), (0.85, 0.9), (0.15, 0.9)]],
    "arrow": [[(0.1, 0.5), (0.9, 0.5)], [(0.65, 0.25), (0.9, 0.5), (0.65, 0.75)]],
}


def draw_shape(strokes, rng, size=160):
    """One shape's strokes (unit-square points) -> a dark-on-white uint8 (size, size) drawing: the points jittered,
    the shape turned by up to 12 degrees, stretched and slanted, drawn with one pen 3 to 10 px wide."""
    canvas = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(canvas)
    angle, (sx, sy), slant = np.deg2rad(rng.uniform(-12, 12)), rng.uniform(0.75, 1.15, 2), rng.uniform(-0.25, 0.25)
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    warp = np.array([[sx, 0], [0, sy]]) @ np.array([[1, 0], [slant, 1]]) @ turn
    width = int(rng.integers(3, 11))
    for stroke in strokes:
        points = (np.array(stroke) + rng.normal(0, 0.025, (len(stroke), 2)) - 0.5) @ warp
        points = (points + 0.5) * size * 0.7 + size * 0.15
        draw.line([tuple(p) for p in points.tolist()], fill=int(rng.integers(0, 80)), width=width, joint="curve")
    return np.asarray(canvas)


def refused_by_shape(classifier, per_shape=20, seed=SEED):
    """{shape: (share refused, the digit most often answered or None)} over per_shape drawings of each."""
    from lenet_keras.runtime.images import to_mnist

    rng = np.random.default_rng(seed)
    table = {}
    for name, strokes in SHAPES.items():
        verdicts = classifier.classify(np.stack([to_mnist(draw_shape(strokes, rng)) for _ in range(per_shape)]))
        answers = [v["digit"] for v in verdicts if v["digit"] is not None]
        table[name] = (1 - len(answers) / per_shape, max(set(answers), key=answers.count) if answers else None)
    return table


def main(argv):
    from lenet_keras.runtime.tflite import TFLiteClassifier

    model = next((a for a in argv if a.endswith(".tflite")), ROOT / "saved_models" / "lenet5_int8.tflite")
    table = refused_by_shape(TFLiteClassifier(model))
    print(f"| shape ({Path(model).name}) | refused | else read as |\n| --- | --- | --- |")
    for name, (share, digit) in table.items():
        print(f"| {name} | {share:.0%} | {'' if digit is None else digit} |")
    print(f"| all {len(table)} shapes | {np.mean([share for share, _ in table.values()]):.1%} | |")


if __name__ == "__main__":
    main(sys.argv[1:])
