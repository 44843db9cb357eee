"""Photos of digits written on paper, made here from MNIST test digits and font digits, seeded.

Each photo is a digit drawn as ink on paper, then put through what a phone camera does to it:
uneven light (a gradient and a vignette), a hand's or phone's shadow, ruled paper, black or blue ink, a small
rotation that shows the table in the corners, blur, sensor noise and JPEG compression; or the page a note on a
table, small (`sheet`) or filling most of the photo (`card`). The ink stays clearly legible. Tuning used MNIST
test indices 0-999 (TUNE); the tests and the README's table use 5000-5999 (REPORT), which the image preparation
never saw while it was tuned.

    python -m tests.photos [MODEL.tflite] [-n 300] [--fonts 100] [--tune]   # by condition; shipped int8 by default
"""

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

TUNE, REPORT = range(0, 1000), range(5000, 6000)  # MNIST test indices: tuned on one, reported on the other
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_NAMES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansCondensed.ttf",
)
SIZE = (360, 480)  # (width, height); predict looks for the ink at 320 px on the long side whatever the photo's size
CONDITIONS = (
    "clean",
    "light",
    "ruled",
    "blue",
    "noise",
    "blur",
    "rotation",
    "jpeg",
    "all",
    "lowres",
    "faint",
    "grey",
    "hard",
    "sheet",
    "squared",
    "shadow",
    "card",
)
BLACK_INK, BLUE_INK = (25, 25, 30), (20, 40, 150)


def fonts():
    """The DejaVu fonts that exist here, else Pillow's own default font: never an empty list."""
    found = [FONT_DIR / name for name in FONT_NAMES if (FONT_DIR / name).is_file()]
    if found:
        return [lambda size, path=path: ImageFont.truetype(str(path), size) for path in found]
    return [lambda size: ImageFont.load_default(size=size)]  # Pillow >= 10.1 ships a scalable font


def font_digit(digit, font):
    """Ink coverage (h, w) in 0..1 of one digit in one font, about 200 px tall."""
    canvas = Image.new("L", (300, 300), 0)
    ImageDraw.Draw(canvas).text((150, 150), str(digit), fill=255, font=font(200), anchor="mm")
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"the font drew nothing for {digit}")
    return np.asarray(canvas.crop(box), np.float32) / 255


def _paper(rng, size, ruled, squared=False):
    """Off-white paper (H, W, 3) float, with pale blue rules, and sometimes a red margin, when ruled; squared,
    a school notebook's grid of pale blue or grey lines 1-2 px wide every 17-29 px instead."""
    w, h = size
    base, tint = rng.uniform(215, 245), rng.uniform(-8, 8, 3)
    gap = int(rng.integers(h // 14, h // 9))
    rule = tuple(int(v) for v in (rng.integers(130, 175), rng.integers(165, 200), rng.integers(210, 245)))
    first, widths, margin = int(rng.integers(0, gap)), rng.integers(1, 4, h), int(rng.integers(-w // 6, w // 6))
    paper = Image.new("RGB", size, tuple(int(base + v) for v in tint))  # white, slightly tinted
    if ruled:
        draw = ImageDraw.Draw(paper)
        for y in range(first, h, gap):
            draw.line([(0, y), (w, y)], fill=rule, width=int(widths[y]))
        if margin > 0:
            draw.line([(margin, 0), (margin, h)], fill=(230, 120, 130), width=2)
    if squared:  # drawn after every draw of the other kinds, so their pages stay the same
        draw, step, width = ImageDraw.Draw(paper), int(rng.integers(h // 28, h // 16)), int(rng.integers(1, 3))
        grid = rule if rng.random() < 0.5 else (int(rule[0]),) * 3
        for y in range(first % step, h, step):
            draw.line([(0, y), (w, y)], fill=grid, width=width)
        for x in range(first % step, w, step):
            draw.line([(x, 0), (x, h)], fill=grid, width=width)
    return np.asarray(paper, np.float32)


def _place(coverage, rng, size, lowres=False, small=False):
    """Scale the ink so the digit is 30-55% of the photo's height (15-30% if small) and put it near the
    middle -> (H, W) 0..1."""
    w, h = size
    height = int(h * rng.uniform(0.3, 0.55) * (0.5 if small else 1))
    width = max(1, round(coverage.shape[1] * height / coverage.shape[0]))
    top = (h - height) // 2 + int(rng.integers(-h // 12, h // 12))
    left = (w - width) // 2 + int(rng.integers(-w // 10, w // 10))
    glyph = Image.fromarray(coverage.astype(np.float32), "F")
    if lowres:  # a small blocky scan, enlarged: 12 px tall, then nearest-neighbour
        small = glyph.resize((max(1, round(width * 12 / height)), 12), Image.Resampling.BOX)
        glyph = small.resize((width, height), Image.Resampling.NEAREST)
    else:
        glyph = glyph.resize((width, height), Image.Resampling.BICUBIC)
    field = np.zeros((h, w), np.float32)
    field[top : top + height, left : left + width] = np.clip(np.asarray(glyph), 0, 1)
    return field


def _light(rng, shape):
    """Uneven light (H, W): a gradient in a random direction (30-50% darker at one side) times a vignette."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    direction, fall, cy, cx, vignette = (
        rng.uniform(0, 2 * np.pi),
        rng.uniform(0.3, 0.5),
        *rng.uniform(0.3, 0.7, 2),
        rng.uniform(0.2, 0.4),
    )
    ramp = np.cos(direction) * (xs / w - 0.5) + np.sin(direction) * (ys / h - 0.5) + 0.5  # about 0..1
    return (1 - fall * ramp) * (1 - vignette * 2 * ((xs / w - cx) ** 2 + (ys / h - cy) ** 2))


def _shadow(rng, shape):
    """A shadow cast over the page from beyond the photo (a hand, a phone): a half-plane from a random side
    over 25-60% of the page, 30-50% darker, its edge 1-4 px soft; ink and paper alike (H, W)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    direction, reach, dark, soft = rng.uniform([0, 0.25, 0.3, 1], [2 * np.pi, 0.6, 0.5, 4])
    along = np.cos(direction) * (xs - w / 2) + np.sin(direction) * (ys - h / 2)  # towards the shadow's side
    edge = np.abs(np.cos(direction)) * w / 2 + np.abs(np.sin(direction)) * h / 2  # its far corner's distance
    inside = along - edge * (1 - 2 * reach)  # > 0 in the shadow
    return 1 - dark / (1 + np.exp(-inside / soft))


def _table_colour(rng):
    """A brown-grey table, darker or lighter: one uniform draw for its RGB."""
    return tuple(int(v * rng.uniform(40, 130)) for v in (1.0, 0.85, 0.7))


def _on_a_table(photo, rng, scale=(0.45, 0.7)):
    """The photo's page shrunk to a note 45-70% (or `scale`) of its width and height, turned up to 8 degrees,
    on a table."""
    h, w = photo.shape[:2]
    scale, angle = rng.uniform(*scale), rng.uniform(-8, 8)
    table = _table_colour(rng)
    note = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).resize((round(w * scale), round(h * scale)))
    note = note.convert("RGBA").rotate(angle, Image.Resampling.BICUBIC, expand=True)
    out = Image.new("RGB", (w, h), table)
    left = (w - note.width) // 2 + int(rng.integers(-w // 20, w // 20 + 1))
    top = (h - note.height) // 2 + int(rng.integers(-h // 20, h // 20 + 1))
    out.paste(note, (left, top), note)
    return np.asarray(out, np.float32)


def render(coverage, condition, seed):
    """Ink coverage (h, w) 0..1 -> an RGB uint8 photo (H, W, 3) under one named condition (see CONDITIONS).

    Each step draws from its own seeded stream, so one seed gives the same page, digit and pen under every
    condition, and the conditions differ only in what they name.
    """
    steps = ("paper", "place", "ink", "camera", "shadow")
    stream = {step: np.random.default_rng([seed, k]) for k, step in enumerate(steps)}
    hard = condition == "hard"  # everything at once, each about twice as strong: where the limits are
    every = condition == "all" or hard
    draws = stream["ink"].random(2)
    ruled, blue = condition == "ruled" or (every and draws[0] < 0.6), condition == "blue" or (every and draws[1] < 0.5)
    paper = _paper(stream["paper"], SIZE, ruled, squared=condition == "squared")
    strength, pencil_strength, grey_paper, grey_ink = stream["ink"].uniform([0.85, 0.35, 140, 90], [1, 0.55, 170, 110])
    if condition == "faint":
        ink, strength = np.array([120, 120, 125], np.float32), pencil_strength  # light pencil
    elif condition == "grey":
        paper, ink, strength = np.full_like(paper, grey_paper), np.full(3, grey_ink, np.float32), 1.0
    else:
        ink = np.array(BLUE_INK if blue else BLACK_INK, np.float32)
    alpha = _place(coverage, stream["place"], SIZE, lowres=condition == "lowres", small=hard)[..., None] * strength
    photo = paper * (1 - alpha) + ink * alpha
    if condition == "sheet":  # the page is a note on a darker table, 20-50% of the photo, turned a little
        photo = _on_a_table(photo, stream["place"])
    if condition == "card":  # the same, the note 50-80% of the photo: a card or a note filling the frame
        photo = _on_a_table(photo, stream["place"], (0.7, 0.9))
    if condition == "shadow":
        photo = photo * _shadow(stream["shadow"], photo.shape[:2])[..., None]
    camera = stream["camera"]
    table, angle = _table_colour(camera), camera.uniform(-6, 6)
    light = _light(camera, photo.shape[:2])
    radius, noise, quality = camera.uniform(1.0, 2.5), camera.uniform(4, 10), int(camera.integers(40, 80))
    if hard:
        angle, light, radius, noise, quality = angle * 2, light**1.6, radius * 1.5, noise * 2, quality // 2
    if condition in ("rotation", "all", "hard"):  # the table shows in the corners
        image = Image.fromarray(photo.astype(np.uint8)).rotate(angle, Image.Resampling.BICUBIC, fillcolor=table)
        photo = np.asarray(image, np.float32)
    if condition in ("light", "all", "hard"):
        photo = photo * light[..., None]
    if condition in ("blur", "all", "hard"):
        blurred = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius))
        photo = np.asarray(blurred, np.float32)
    if condition in ("noise", "all", "hard"):
        photo = photo + noise * camera.standard_normal(photo.shape, np.float32)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    if condition in ("jpeg", "all", "hard"):
        buffer = io.BytesIO()
        Image.fromarray(photo).save(buffer, "JPEG", quality=quality)
        photo = np.asarray(Image.open(buffer).convert("RGB"))
    return photo


def mnist_coverage(x_test, index):
    """MNIST test digit -> ink coverage (28, 28) 0..1."""
    return x_test[index].astype(np.float32) / 255


def photo_set(mnist, indices, n_fonts, condition, seed=0):
    """(photos, labels): MNIST test digits at `indices` and n_fonts font digits, rendered under `condition`."""
    _, (x_test, y_test) = mnist
    photos, labels, kinds = [], [], []
    for i in indices:
        photos.append(render(mnist_coverage(x_test, i), condition, seed * 100_003 + i))
        labels.append(int(y_test[i]))
        kinds.append("mnist")
    faces = fonts()
    for k in range(n_fonts):
        digit, face = k % 10, faces[(k // 10) % len(faces)]
        photos.append(render(font_digit(digit, face), condition, seed * 100_003 + 50_000 + k))
        labels.append(digit)
        kinds.append("font")
    return photos, np.array(labels), np.array(kinds)


def accuracy_table(mnist, classifier, indices=REPORT, n_fonts=100, conditions=CONDITIONS):
    """{condition: {"mnist": accuracy, "font": accuracy}} of classifier.predict(to_mnist(photo))."""
    from lenet_keras.runtime.images import to_mnist

    table = {}
    for condition in conditions:
        photos, labels, kinds = photo_set(mnist, indices, n_fonts, condition)
        predicted, _ = classifier.predict(np.stack([to_mnist(p) for p in photos]))
        right = predicted == labels
        table[condition] = {kind: float(right[kinds == kind].mean()) for kind in ("mnist", "font")}
    return table


def other_inputs(mnist, classifier, indices=REPORT):
    """Accuracy on inputs that are not photos, which the photo cleaning must leave readable."""
    from sklearn.datasets import load_digits

    from lenet_keras.runtime.images import to_mnist

    _, (x_test, y_test) = mnist
    uci = load_digits()  # 1,797 8x8 digits, values 0-16: blocky and faint

    def accuracy(images, labels):
        return float(np.mean(classifier.predict(np.stack([to_mnist(i) for i in images]))[0] == labels))

    return {
        f"MNIST test {indices[0]}-{indices[-1]} as 28x28 arrays": accuracy(x_test[indices], y_test[indices]),
        "UCI 8x8 handwriting, values 0-16": accuracy(uci.images, uci.target),
        "the same, enlarged 8x (blocky)": accuracy([np.kron(i, np.ones((8, 8))) for i in uci.images], uci.target),
    }


def main(argv):
    import os

    from lenet_keras.idx import load_mnist
    from lenet_keras.runtime.tflite import TFLiteClassifier

    root = Path(__file__).resolve().parents[1]
    mnist = load_mnist(os.environ.get("LENET_MNIST_DIR") or root.parent / "shared" / "data" / "mnist")
    model = next((a for a in argv if a.endswith(".tflite")), root / "saved_models" / "lenet5_int8.tflite")
    classifier = TFLiteClassifier(model)
    indices = TUNE if "--tune" in argv else REPORT
    n = int(argv[argv.index("-n") + 1]) if "-n" in argv else 300
    n_fonts = int(argv[argv.index("--fonts") + 1]) if "--fonts" in argv else 100
    table = accuracy_table(mnist, classifier, indices[:n], n_fonts=n_fonts)
    print(f"| condition | {n} MNIST test digits ({indices[0]}-{indices[0] + n - 1}) | {n_fonts} font digits |")
    print("| --- | --- | --- |")
    for condition, row in table.items():
        print(f"| {condition} | {row['mnist']:.1%} | {row['font']:.1%} |")
    print("\n| not a photo | accuracy |\n| --- | --- |")
    for name, accuracy in other_inputs(mnist, classifier, indices).items():
        print(f"| {name} | {accuracy:.1%} |")


if __name__ == "__main__":
    main(sys.argv[1:])
