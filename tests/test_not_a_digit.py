""""Not a digit": the project's held-out non-digits are refused, real digits are answered, and every export
carries the same rule (its digit_margin output)."""

import json
from pathlib import Path

import doodles
import nondigits
import numpy as np
import pytest
from PIL import Image, ImageDraw

from lenet_keras.cli import main
from lenet_keras.negatives import make_negatives
from lenet_keras.runtime.tflite import TFLiteClassifier

SHIPPED = Path(__file__).resolve().parents[1] / "saved_models"


@pytest.fixture(scope="module")
def int8():
    return TFLiteClassifier(SHIPPED / "lenet5_int8.tflite")


@pytest.fixture(scope="module")
def table(int8, mnist):
    return nondigits.refusal_table(int8, mnist, n=1000)


def test_the_shipped_models_carry_a_refusal_rule():
    for name in ("lenet5_int8.tflite", "lenet5_float32.tflite"):
        assert TFLiteClassifier(SHIPPED / name).knows_non_digits, name


def test_held_out_non_digits_are_refused_far_more_often_than_digits(table):
    """The issue's goal is 95%; the shipped head refuses 86.4% (README, "Not a digit"). This holds the
    release to what it does, against the 0.2-0.3% of MNIST digits it refuses."""
    assert table["held-out non-digits, all kinds"] >= 0.82, table
    assert table["held-out non-digits, all kinds"] >= 30 * table["MNIST test digits (refused)"], table


def test_pen_drawn_symbols_letters_and_doodles_are_mostly_refused(int8):
    """Drawings no training image resembles (tests/doodles.py: strokes of one pen, 160 px): the shipped head
    refuses 81.1% of 36 shapes (README, "Not a digit"); the distance rule before it 43%. Release 1.1 accepted
    every +; here +, ×, ÷ and * are refused."""
    table = doodles.refused_by_shape(int8, per_shape=5)
    assert np.mean([share for share, _ in table.values()]) >= 0.7, table
    assert np.mean([table[name][0] for name in ("+", "×", "÷", "*")]) >= 0.8, table


def test_blank_and_noise_pictures_are_refused(table):
    assert table["blank pictures"] == 1.0 and table["noise pictures (96x96)"] >= 0.95, table


def test_real_digits_are_answered(table):
    assert table["MNIST test digits (refused)"] <= 0.01, table


def test_int8_and_float_refuse_the_same_images(int8, mnist):
    _, (x_test, _) = mnist
    float32 = TFLiteClassifier(SHIPPED / "lenet5_float32.tflite")
    same = np.mean((int8.digit_margin(x_test[:3000]) < 0) == (float32.digit_margin(x_test[:3000]) < 0))
    assert same >= 0.997


def test_a_refused_picture_is_not_a_digit_in_text_and_json(int8, tmp_path, capsys):
    """The held-out non-digit the model is surest is none, saved as a picture, goes through predict's own path."""
    others, _ = make_negatives(200, seed=nondigits.HELD_OUT_SEED, held_out=True)
    others = others[others.reshape(len(others), -1).any(axis=1)]
    path = tmp_path / "other.png"
    Image.fromarray(others[int(np.argmin(int8.digit_margin(others)))]).save(path)
    assert main(["predict", str(path), "--json", "--top", "3"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["digit"] is None and result["reason"] == "not a digit" and len(result["top"]) == 3
    assert result["probability"] is None and result["top"][0]["probability"] > 0
    assert main(["predict", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: not a digit  (likeliest: ")


def test_a_dash_or_an_underline_is_no_digit(tmp_path, capsys):
    """Before: a minus sign and an underline drawn by hand both read "2". Ink over three times as
    wide as it is tall is no digit: MNIST's widest training digit is 2.5 times, USPS's 2.67."""
    paths = []
    for name, (top, bottom) in (("minus.png", (190, 212)), ("underline.png", (300, 308))):
        page = Image.new("L", (400, 400), 255)
        ImageDraw.Draw(page).line([(90, top), (200, bottom), (310, top + 4)], fill=30, width=14, joint="curve")
        page.save(tmp_path / name)
        paths.append(str(tmp_path / name))
    assert main(["predict", *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["digit"] for r in results] == [None, None]
    assert [r["reason"] for r in results] == ["no digit found"] * 2
