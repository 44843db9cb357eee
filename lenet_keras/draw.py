"""A drawing pad for notebook 05: draw a digit, see it in MNIST's form, the int8 model's ten probabilities and
its answer, which may be "not a digit".

On pen-up the browser sends the canvas as a PNG. Python turns it into MNIST's form with
`images.to_mnist`, the function `lenet-keras predict` uses, and classifies it with the exported
TFLite model. `DrawingPad.draw_stroke` rasterises a scripted stroke into the same PNG, which then
takes the same path, so the notebook also runs headless.
"""

import base64
import io
from pathlib import Path

import anywidget
import numpy as np
import traitlets
from PIL import Image, ImageDraw

from lenet_keras.runtime.images import to_mnist
from lenet_keras.runtime.tflite import TFLiteClassifier

SIZE = 280  # canvas side in pixels: 10 per MNIST pixel
PEN = 20  # stroke width; to_mnist scales the digit to 20 px, so a tall stroke ends up about 2 px wide, as in MNIST
PNG_PREFIX = "data:image/png;base64,"


def decode_png(data_url):
    """A canvas PNG data URL -> uint8 array (H, W, 4)."""
    if not data_url.startswith(PNG_PREFIX):
        raise ValueError("expected a PNG data URL from the drawing canvas.")
    with Image.open(io.BytesIO(base64.b64decode(data_url[len(PNG_PREFIX) :]))) as image:
        return np.asarray(image.convert("RGBA"))


def encode_png(pixels):
    """uint8 array (H, W, 4) -> a PNG data URL, the form the canvas sends."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, format="PNG")
    return PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def blank_canvas(size=SIZE):
    """White paper, as the canvas starts: uint8 (size, size, 4)."""
    return np.full((size, size, 4), 255, np.uint8)


def render_stroke(points, pixels, pen=PEN):
    """Draw a black stroke through points [(x, y), ...] on a canvas array (H, W, 4), with round ends like the canvas."""
    image = Image.fromarray(pixels, "RGBA")
    draw = ImageDraw.Draw(image)
    points = [tuple(map(float, p)) for p in points]
    draw.line(points, fill=(0, 0, 0, 255), width=pen, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(0, 0, 0, 255))
    return np.asarray(image)


def read_drawing(pixels, classifier):
    """Canvas pixels (H, W[, C]) -> (MNIST-form uint8 (28, 28), probabilities (10,), verdict) through to_mnist and
    the model; the verdict is TFLiteClassifier.classify's, with "digit" None for a blank pad or a non-digit."""
    image = to_mnist(pixels)
    (verdict,) = classifier.classify(image[None], top=10)
    probabilities = np.zeros(10, np.float32)
    for t in verdict["top"]:
        probabilities[t["digit"]] = t["probability"]
    return image, probabilities, verdict


class DrawingPad(anywidget.AnyWidget):
    """Draw a digit with the mouse or a finger; on pen-up it shows the 28x28 image and the ten probabilities."""

    _esm = Path(__file__).with_name("draw.js")
    size = traitlets.Int(SIZE).tag(sync=True)
    pen = traitlets.Int(PEN).tag(sync=True)
    drawing = traitlets.Unicode("").tag(sync=True)  # the canvas as a PNG data URL; "" when cleared
    mnist = traitlets.List(traitlets.Int(), []).tag(sync=True)  # 784 pixels, row by row; [] when cleared
    probabilities = traitlets.List(traitlets.Float(), []).tag(sync=True)
    prediction = traitlets.Int(-1).tag(sync=True)  # -1: no digit
    reason = traitlets.Unicode("").tag(sync=True)  # why there is none: "no digit found", "not a digit"; "" otherwise

    def __init__(self, model_path, **kwargs):
        super().__init__(**kwargs)
        self.classifier = TFLiteClassifier(model_path)

    @traitlets.observe("drawing")
    def _read(self, change):
        if not change.new:
            with self.hold_sync():
                self.mnist, self.probabilities, self.prediction, self.reason = [], [], -1, ""
            return
        image, probabilities, verdict = read_drawing(decode_png(change.new), self.classifier)
        with self.hold_sync():  # one message, so the browser never shows a new image with old bars
            self.mnist = image.ravel().tolist()
            self.probabilities = probabilities.tolist()
            self.prediction = -1 if verdict["digit"] is None else verdict["digit"]
            self.reason = verdict["reason"] or ""

    def draw_stroke(self, points):
        """Add a stroke through points [(x, y), ...] in canvas pixels, as a pen would; return (image, probabilities)."""
        pixels = decode_png(self.drawing) if self.drawing else blank_canvas(self.size)
        self.drawing = encode_png(render_stroke(points, pixels, self.pen))
        return self.image, np.array(self.probabilities, np.float32)

    def clear(self):
        """Wipe the pad and its answer, as the Clear button does."""
        self.drawing = ""

    @property
    def image(self):
        """The drawing in MNIST's form, uint8 (28, 28); zeros when the pad is empty."""
        return np.array(self.mnist or [0] * 784, np.uint8).reshape(28, 28)
