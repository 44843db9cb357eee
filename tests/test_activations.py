"""Notebook 05's views inside the shipped model, checked against the model itself and a plain convolution."""

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import correlate2d

from lenet_keras.activations import c1_kernels, confidence_extremes, f6_and_probabilities, feature_maps, project_2d
from lenet_keras.data import preprocess
from lenet_keras.evaluate import load_model, predict_logits
from lenet_keras.model import ModelConfig, build_lenet5

SHIPPED = Path(__file__).resolve().parents[1] / "saved_models" / "lenet5.keras"


@pytest.fixture(scope="module")
def model():
    return load_model(SHIPPED)


def test_c1_maps_are_the_kernels_convolved_with_the_padded_image(model, mnist):
    _, (x_test, _) = mnist
    maps = feature_maps(model, x_test[0])
    padded = preprocess(x_test[:1]).numpy()[0, :, :, 0]  # (32, 32)
    bias = model.get_layer("C1").bias.numpy()
    for j, kernel in enumerate(c1_kernels(model)):
        expected = np.maximum(correlate2d(padded, kernel, mode="valid") + bias[j], 0)  # modern C1: ReLU
        np.testing.assert_allclose(maps["C1"][..., j], expected, atol=1e-4)
    assert [m.shape for m in maps.values()] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]


def test_classic_maps_are_taken_after_the_squashing_function():
    maps = feature_maps(build_lenet5(ModelConfig(variant="classic")), np.full((28, 28), 255, np.uint8))
    assert all(np.abs(m).max() <= 1.7159 for m in maps.values())  # scaled tanh's range


def test_batch_norm_maps_are_taken_after_normalization_and_relu(mnist):
    _, (x_test, _) = mnist
    model = build_lenet5(ModelConfig(batch_norm=True))
    maps = feature_maps(model, x_test[0])
    features, _ = f6_and_probabilities(model, x_test[:8])
    assert all(m.min() >= 0 for m in maps.values()) and features.min() >= 0  # ReLU comes last in each stage


def test_f6_probabilities_agree_with_the_model_and_extremes_are_ordered(model, mnist):
    _, (x_test, _) = mnist
    features, probabilities = f6_and_probabilities(model, x_test[:500])
    assert features.shape == (500, 84) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(probabilities.argmax(axis=1), predict_logits(model, x_test[:500]).argmax(axis=1))
    most, least = confidence_extremes(probabilities, count=5)
    confidence = probabilities.max(axis=1)
    assert np.all(np.diff(confidence[most]) <= 0) and np.all(np.diff(confidence[least]) >= 0)
    assert confidence[most].min() >= np.sort(confidence)[-5] and confidence[least].max() <= np.sort(confidence)[4]
    assert project_2d(features).shape == (500, 2)
