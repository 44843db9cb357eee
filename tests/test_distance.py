"""The rule for "not a digit" (distance.py): the Mahalanobis distance it computes is the textbook one, its
threshold refuses the share of validation digits it is asked to, and on the shipped model it refuses more of
the held-out non-digits than the top probability did, while refusing fewer real digits."""

from pathlib import Path

import numpy as np
import pytest

from lenet_keras.calibrate import calibrate, softmax
from lenet_keras.data import split_validation
from lenet_keras.distance import REFUSED_DIGITS, features, fit_distance, nearest_distance
from lenet_keras.evaluate import load_model, predict_logits
from lenet_keras.negatives import make_negatives

SHIPPED = Path(__file__).resolve().parents[1] / "saved_models" / "lenet5.keras"


def test_the_distance_is_mahalanobis_to_the_nearest_mean():
    rng = np.random.default_rng(0)
    covariance = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, 0.2], [0.0, 0.2, 0.5]])
    means = rng.normal(size=(10, 3)) * 5
    whitening = np.linalg.cholesky(np.linalg.inv(covariance))
    points = rng.normal(size=(50, 3)) * 3
    precision = np.linalg.inv(covariance)
    textbook = np.array([min((p - m) @ precision @ (p - m) for m in means) for p in points])
    np.testing.assert_allclose(nearest_distance(points, means, whitening), textbook, rtol=1e-9)


@pytest.fixture(scope="module")
def shipped(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    train, val = split_validation(x_train, y_train, 5000, 0)
    model = load_model(SHIPPED)
    return model, fit_distance(model, train, val), val, (x_test, y_test)


def test_the_threshold_refuses_the_share_of_validation_digits_asked_for(shipped):
    model, rule, (x_val, _), (x_test, _) = shipped
    assert rule["refused"] == REFUSED_DIGITS and rule["features"] == 204 and rule["training_images"] == 55_000

    def refused(x):
        return np.mean(nearest_distance(features(model, x), rule["means"], rule["whitening"]) > rule["threshold"])

    assert refused(x_val) == pytest.approx(REFUSED_DIGITS, abs=0.0005)
    assert refused(x_test[:5000]) <= 0.01  # digits the rule never saw: about as few


def test_distance_refuses_more_non_digits_than_the_top_probability_did(shipped):
    """Against the rule it replaced (the calibrated top probability under the value 0.5% of validation digits fall
    below), on held-out non-digits (fonts training never used) and MNIST test digits."""
    model, rule, (x_val, y_val), (x_test, _) = shipped
    others, _ = make_negatives(600, seed=31, held_out=True)
    temperature = calibrate(predict_logits(model, x_val), y_val)["temperature"]
    floor = np.quantile(softmax(predict_logits(model, x_val), temperature).max(axis=1), REFUSED_DIGITS)

    def by_probability(x):
        return softmax(predict_logits(model, x), temperature).max(axis=1) < floor

    def by_distance(x):
        return nearest_distance(features(model, x), rule["means"], rule["whitening"]) > rule["threshold"]

    assert by_distance(others).mean() >= by_probability(others).mean() + 0.05
    assert by_distance(x_test[:5000]).mean() <= by_probability(x_test[:5000]).mean()


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_the_serving_graph_computes_the_same_margin_for_both_variants(mnist, variant):
    """serving.DigitMargin on the exported chain (batch normalization folded, C1 and S2 on pixel blocks) against
    distance.py on the Keras model, for a freshly built model of each variant."""
    from lenet_keras.model import ModelConfig, build_lenet5
    from lenet_keras.serving import make_serving_model

    (x_train, y_train), _ = mnist
    model = build_lenet5(ModelConfig(variant=variant))
    rule = fit_distance(model, (x_train[:3000], y_train[:3000]), (x_train[3000:4000], y_train[3000:4000]))
    serving = make_serving_model(model, {"temperature": 1.0, "distance": rule})
    pixels = x_train[4000:4100]
    _, margin = serving.predict(pixels[..., None].astype(np.float32), verbose=0)
    expected = 1 - nearest_distance(features(model, pixels), rule["means"], rule["whitening"]) / rule["threshold"]
    np.testing.assert_allclose(margin[:, 0], expected, rtol=1e-3, atol=1e-3)
