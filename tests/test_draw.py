"""The drawing pad's Python side: a drawn digit gets the same answer as `predict` on the same picture as a file."""

from pathlib import Path

import numpy as np
from PIL import Image

from lenet_keras.draw import DrawingPad, blank_canvas, decode_png, encode_png, read_drawing, render_stroke
from lenet_keras.runtime.tflite import TFLiteClassifier

INT8 = Path(__file__).resolve().parents[1] / "saved_models" / "lenet5_int8.tflite"
ONE = [(140, 40), (140, 240)]
SEVEN = [(80, 60), (200, 60), (120, 240)]


def test_png_data_url_round_trip_keeps_every_pixel():
    pixels = render_stroke(SEVEN, blank_canvas())
    assert np.array_equal(decode_png(encode_png(pixels)), pixels)


def test_a_drawing_gets_the_answer_predict_gives_for_the_same_picture_saved_as_a_file(tmp_path):
    classifier = TFLiteClassifier(INT8)
    for stroke, digit in ((ONE, 1), (SEVEN, 7)):
        pixels = render_stroke(stroke, blank_canvas())
        Image.fromarray(pixels, "RGBA").save(tmp_path / f"{digit}.png")
        image, probabilities, verdict = read_drawing(pixels, classifier)
        [from_file] = classifier.predict_files([tmp_path / f"{digit}.png"], top=10)
        assert from_file["digit"] == verdict["digit"] == int(probabilities.argmax()) == digit
        assert np.allclose([from_file["top"][0]["probability"]], probabilities.max())
        assert image.shape == (28, 28) and image.dtype == np.uint8


def test_pad_shows_the_digit_of_a_scripted_stroke_and_clears():
    pad = DrawingPad(INT8)
    image, probabilities = pad.draw_stroke(ONE)
    assert pad.prediction == 1 and probabilities.argmax() == 1 and abs(probabilities.sum() - 1) < 0.02
    assert np.array_equal(pad.image, image) and len(pad.mnist) == 784
    assert image[:, 14].sum() > 0 and image[:, :10].sum() == 0  # a centred vertical bar
    pad.clear()
    assert pad.prediction == -1 and pad.probabilities == [] and not pad.image.any()


def test_strokes_add_up_until_the_pad_is_cleared():
    pad = DrawingPad(INT8)
    pad.draw_stroke([(80, 60), (200, 60)])  # the bar of a 7 alone
    pad.draw_stroke([(200, 60), (120, 240)])
    assert pad.prediction == 7


def test_a_blank_pad_holds_no_digit():
    pad = DrawingPad(INT8)
    pad.drawing = encode_png(blank_canvas())
    assert pad.prediction == -1 and not pad.image.any() and len(pad.probabilities) == 10
    assert pad.reason == "no digit found"


def test_a_stray_click_on_the_pad_holds_no_digit():
    """Before: a click that slid a few pixels (a blot little longer than the pen is wide) read "8 (93.8%)";
    a blot has no strokes to read."""
    pad = DrawingPad(INT8)
    pad.draw_stroke([(140, 140), (150, 150)])
    assert pad.prediction == -1 and pad.reason == "no digit found"


def test_a_pad_that_is_not_a_digit_says_so(monkeypatch):
    """The pad shows the classifier's verdict: a drawing its model refuses reads "none (not a digit)"."""
    pad = DrawingPad(INT8)
    monkeypatch.setattr(pad.classifier, "_run", _refusing(pad.classifier._run))
    pad.draw_stroke(ONE)
    assert pad.prediction == -1 and pad.reason == "not a digit" and len(pad.probabilities) == 10
    assert pad.image.any()  # the model saw ink, and refused it


def _refusing(run):
    def refuse(images):
        outputs = run(images)
        return {**outputs, "digit_margin": np.full(len(images), -0.2, np.float32)}

    return refuse
