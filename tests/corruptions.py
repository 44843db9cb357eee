"""Corruptions a person reads through, in the manner of MNIST-C (Mu & Gilmer, 2019), approximated here with
numpy and Pillow on MNIST test digits 5000-5299 as they are (28x28, white on black): noise, blur, affine
changes, fog, spatter, lines and stripes drawn over the digit, edges only. Each kind has its own seed. Three kinds
follow MNIST-C's published code instead: its stripe ("edge stripes"), its zigzag ("zigzag 2 px") and its canny
edges (skimage's Canny, done here with scipy).

    python -m tests.corruptions [MODEL.tflite]   # top digit right and refused per kind, shipped int8 by default
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPORT = range(5000, 5300)  # MNIST test indices, as tests/strokes.py and tests/photos.py report on


def _bytes(a):
    return (np.clip(a, 0, 1) * 255).astype(np.uint8)


def _pil(a, edit):
    return np.asarray(edit(Image.fromarray(_bytes(a))), np.float32) / 255


def _affine(a, matrix):
    return _pil(a, lambda im: im.transform((28, 28), Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR))


def _zigzag(a, rng):
    im = Image.fromarray(_bytes(a))
    top = rng.integers(4, 12)
    ImageDraw.Draw(im).line([(4 * i, top + (i % 2) * 14) for i in range(8)], fill=255, width=1)
    return np.asarray(im, np.float32) / 255


def _line(c0, r0, c1, r1):
    """MNIST-C's anti-aliased line from column c0 to c1: ink log(1 - d / 2.3) + 1 at d px from it."""
    cc, rr = np.meshgrid(np.arange(28.0), np.arange(28.0))
    if c1 == c0:
        return np.zeros((28, 28))
    d = np.clip(np.abs(rr - ((r1 - r0) / (c1 - c0) * (cc - c0) + r0)), 0, 2.3 - 1e-10)
    v = np.clip(np.log(1 - d / 2.3) + 1, 0, 1)
    v[:, : int(np.floor(c0))], v[:, int(np.ceil(c1)) :] = 0, 0
    return v


def _zigzag_2px(a, rng):
    """MNIST-C's own zigzag: teeth 2 px high every 2 px along a line from column 2 to 25, slightly tilted."""
    r0 = rng.integers(0, 27)
    r1 = r0 + rng.integers(-5, 5)
    theta = np.arctan((r1 - r0) / 23)
    length = 23 / np.cos(theta)
    points = [(0.0, 0.0)] + [((2 * i + 1) * 2.0, (-1) ** i * 2.0) for i in range(int((length - 2) // 4) + 1)]
    points.append((length, 0.0))
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cs, rs = rotation @ np.array(points).T + np.array([[2.0], [r0]])
    for i in range(1, len(cs)):
        a = np.clip(a + _line(cs[i - 1], rs[i - 1], cs[i], rs[i]), 0, 1)
    return a


def _dotted_line(a, rng):
    im = Image.fromarray(_bytes(a))
    start, slope = rng.integers(0, 10), rng.uniform(0.4, 0.9)
    for t in range(0, 28, 3):
        ImageDraw.Draw(im).point((t, int(start + slope * t)), fill=255)
    return np.asarray(im, np.float32) / 255


def _spatter(a, rng):
    drops = Image.fromarray(((rng.random((28, 28)) < 0.03) * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))
    return np.maximum(a, 0.6 * np.asarray(drops, np.float32) / 255)


def _fog(a, rng):
    field = Image.fromarray((rng.random((4, 4)) * 255).astype(np.uint8)).resize((28, 28), Image.Resampling.BICUBIC)
    return a + 0.5 * np.asarray(field, np.float32) / 255


def _stripe(a, rng):
    column = rng.integers(10, 16)
    b = a.copy()
    b[:, column : column + 3] = 1 - b[:, column : column + 3]
    return b


def _edge_stripes(a, rng):
    """MNIST-C's own stripe: the 7 columns at each side inverted, top to bottom."""
    b = a.copy()
    b[:, :7], b[:, 21:] = 1 - b[:, :7], 1 - b[:, 21:]
    return b


def _find_edges(a, rng):
    return (_pil(a, lambda im: im.filter(ImageFilter.FIND_EDGES)) > 0.3).astype(np.float32)


def _canny_edges(a, rng, sigma=1.0, low=0.1, high=0.2):
    """MNIST-C's own canny edges: skimage.feature.canny's defaults (Gaussian of 1 px, Sobel, non-maximum
    suppression interpolated along the gradient, hysteresis from 0.1 to 0.2), with scipy; on MNIST test
    5000-5999 the same pixels as skimage's."""
    from scipy import ndimage

    def blur(v):
        return ndimage.gaussian_filter(v, sigma, mode="constant")

    smooth = blur(a) / blur(np.ones_like(a))
    gy, gx = ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1)
    magnitude, ay, ax = np.hypot(gx, gy), np.abs(gy), np.abs(gx)
    p = np.pad(magnitude, 1)

    def at(dy, dx):
        return p[1 + dy : 29 + dy, 1 + dx : 29 + dx]

    same = gy * gx >= 0  # the gradient's two components of one sign: its diagonal neighbours are (1, 1), (-1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w, w2 = np.where(ax > 0, ay / ax, 0), np.where(ay > 0, ax / ay, 0)
    ahead = np.where(ay <= ax, at(0, 1) * (1 - w) + np.where(same, at(1, 1), at(-1, 1)) * w,
                     at(1, 0) * (1 - w2) + np.where(same, at(1, 1), at(1, -1)) * w2)  # fmt: skip
    behind = np.where(ay <= ax, at(0, -1) * (1 - w) + np.where(same, at(-1, -1), at(1, -1)) * w,
                      at(-1, 0) * (1 - w2) + np.where(same, at(-1, -1), at(-1, 1)) * w2)  # fmt: skip
    inner = np.zeros(a.shape, bool)
    inner[1:-1, 1:-1] = True
    weak = (magnitude >= ahead) & (magnitude >= behind) & inner & (magnitude > 0) & (magnitude >= low)
    labels, _ = ndimage.label(weak, np.ones((3, 3)))
    strong = np.unique(labels[weak & (magnitude >= high)])
    return np.isin(labels, strong[strong > 0]).astype(np.float32)


KINDS = {
    "identity": lambda a, rng: a,
    "shot noise": lambda a, rng: rng.poisson(a * 60) / 60,
    "impulse noise": lambda a, rng: np.where(rng.random(a.shape) < 0.05, rng.integers(0, 2, a.shape), a),
    "gaussian noise": lambda a, rng: a + rng.normal(0, 0.25, a.shape),
    "gaussian blur": lambda a, rng: _pil(a, lambda im: im.filter(ImageFilter.GaussianBlur(1.0))),
    "motion blur": lambda a, rng: sum(np.roll(a, s, axis=1) for s in range(-2, 3)) / 5,
    "shear": lambda a, rng: _affine(a, (1, 0.4, -5.6, 0, 1, 0)),
    "scale down": lambda a, rng: _affine(a, (1.6, 0, -8.4, 0, 1.6, -8.4)),
    "scale up": lambda a, rng: _affine(a, (0.75, 0, 3.5, 0, 0.75, 3.5)),
    "rotate 30°": lambda a, rng: _pil(a, lambda im: im.rotate(30, Image.Resampling.BILINEAR)),
    "brightness": lambda a, rng: a + 0.5,
    "low contrast": lambda a, rng: 0.3 + 0.2 * a,
    "translate": lambda a, rng: np.roll(a, (4, 4), axis=(0, 1)),
    "fog": _fog,
    "spatter": _spatter,
    "dotted line": _dotted_line,
    "zigzag": _zigzag,
    "stripe": _stripe,
    "edges (Pillow's FIND_EDGES)": _find_edges,
    # MNIST-C's own definitions of three kinds (added last, so the kinds above keep their seeds)
    "edge stripes": _edge_stripes,
    "zigzag 2 px": _zigzag_2px,
    "canny edges (MNIST-C's)": _canny_edges,
}


def corrupted(kind, digits):
    """uint8 (N, 28, 28) MNIST digits -> the same digits with one corruption, uint8, seeded by the kind."""
    rng = np.random.default_rng(list(KINDS).index(kind))
    return np.stack([_bytes(KINDS[kind](d.astype(np.float32) / 255, rng)) for d in digits])


def main(argv):
    import os

    from lenet_keras.idx import load_mnist
    from lenet_keras.runtime.images import to_mnist
    from lenet_keras.runtime.tflite import TFLiteClassifier

    root = Path(__file__).resolve().parents[1]
    model = next((a for a in argv if a.endswith(".tflite")), root / "saved_models" / "lenet5_int8.tflite")
    _, (x, y) = load_mnist(os.environ.get("LENET_MNIST_DIR") or root.parent / "shared" / "data" / "mnist")
    digits, labels = x[list(REPORT)], y[list(REPORT)]
    classifier = TFLiteClassifier(model)
    print(f"| corruption ({Path(model).name}) | top digit right | answered right | refused |")
    print("| --- | --- | --- | --- |")
    for kind in KINDS:
        seen = np.stack([to_mnist(image) for image in corrupted(kind, digits)])
        top = classifier.predict(seen)[0]
        answers = np.array([-1 if v["digit"] is None else v["digit"] for v in classifier.classify(seen)])
        right, refused = np.mean(top == labels), np.mean(answers == -1)
        print(f"| {kind} | {right:.1%} | {np.mean(answers == labels):.1%} | {refused:.1%} |")


if __name__ == "__main__":
    main(sys.argv[1:])
