"""The rule for "not a digit" (detector.py): its threshold refuses the share of validation digits it is asked to,
on the shipped model it refuses most of the held-out non-digits while refusing few real digits, and the serving
graph computes the same verdict as the Keras head, for both variants."""

from pathlib import Path

import keras
import numpy as np
import pytest

from lenet_keras.calibrate import calibrate, softmax
from lenet_keras.data import split_validation
from lenet_keras.detector import (
    DETECTOR_NAME,
    REFUSED_DIGITS,
    DetectorConfig,
    digit_scores,
    feature_model,
    fit_detector,
)
from lenet_keras.evaluate import load_model, predict_logits
from lenet_keras.negatives import make_negatives

SHIPPED = Path(__file__).resolve().parents[1] / "saved_models"


@pytest.fixture(scope="module")
def shipped(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    _, val = split_validation(x_train, y_train, 5000, 0)
    model = load_model(SHIPPED / "lenet5.keras")
    return model, feature_model(model), keras.saving.load_model(SHIPPED / DETECTOR_NAME), val, (x_test, y_test)


def test_the_threshold_refuses_the_share_of_validation_digits_asked_for(shipped):
    _, extractor, head, (x_val, _), (x_test, _) = shipped
    assert np.mean(digit_scores(extractor, head, x_val) < 0) == pytest.approx(REFUSED_DIGITS, abs=0.0003)
    assert np.mean(digit_scores(extractor, head, x_test) < 0) <= 0.005  # digits it never saw: about as few


def test_the_head_refuses_most_held_out_non_digits_and_the_top_probability_did_not(shipped):
    """Against the rule of release 1.1 (the calibrated top probability, its floor where as many validation digits
    fall below), on held-out non-digits (fonts training never used, a fresh seed)."""
    model, extractor, head, (x_val, y_val), (x_test, _) = shipped
    others, _ = make_negatives(600, seed=31, held_out=True)
    temperature = calibrate(predict_logits(model, x_val), y_val)["temperature"]
    floor = np.quantile(softmax(predict_logits(model, x_val), temperature).max(axis=1), REFUSED_DIGITS)
    by_probability = softmax(predict_logits(model, others), temperature).max(axis=1) < floor
    by_head = digit_scores(extractor, head, others) < 0
    assert by_head.mean() >= 0.6 and by_head.mean() >= by_probability.mean() + 0.4, (
        by_head.mean(),
        by_probability.mean(),
    )


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_the_serving_graph_gives_the_heads_verdict_for_both_variants(mnist, variant):
    """serving.DigitMargin on the exported chain (batch normalization folded, C1 and S2 on pixel blocks, the head's
    standardization folded into its hidden layer) against detector.py on the Keras model, for a freshly built
    model of each variant; and the fitted threshold refuses the share of validation digits asked for."""
    from lenet_keras.model import ModelConfig, build_lenet5
    from lenet_keras.serving import make_serving_model

    (x_train, y_train), _ = mnist
    model = build_lenet5(ModelConfig(variant=variant))
    config = DetectorConfig(negatives_per_digit=0.1, lead_ins=50, epochs=2, refused=0.01)
    val = (x_train[3000:4000], y_train[3000:4000])
    detector = fit_detector(model, (x_train[:3000], y_train[:3000]), val, config)
    extractor = feature_model(model)
    assert np.mean(digit_scores(extractor, detector["head"], val[0]) < 0) == pytest.approx(0.01, abs=0.002)
    serving = make_serving_model(model, {"temperature": 1.0, "head": detector["head"]})
    others, _ = make_negatives(50, seed=5, held_out=True)
    pixels = np.concatenate([x_train[4000:4100], others])
    _, margin = serving.predict(pixels[..., None].astype(np.float32), verbose=0)
    expected = np.tanh(digit_scores(extractor, detector["head"], pixels) / 2)
    np.testing.assert_allclose(margin[:, 0], expected, rtol=1e-3, atol=1e-3)
