"""Calibrate a trained model's probabilities on the validation split.

Temperature scaling (Guo et al., 2017): one number T divides the logits so that the probabilities mean
what they say on held-out digits; it changes no answer. The exported models carry it (serving.py). When
an image is "not a digit" is decided by detector.py.
"""

import numpy as np

__all__ = ["calibrate", "expected_calibration_error", "softmax"]

BINS = 15  # reliability bins for the expected calibration error, as Guo et al.


def softmax(logits, temperature=1.0):
    z = np.asarray(logits, np.float64) / temperature
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _nll(logits, labels, temperature):
    return float(-np.log(softmax(logits, temperature)[np.arange(len(labels)), labels] + 1e-12).mean())


def fit_temperature(logits, labels):
    """The temperature that minimises the validation negative log-likelihood: a grid, then a finer one."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(5.0), 61))
    best = min(grid, key=lambda t: _nll(logits, labels, t))
    fine = best * np.exp(np.linspace(-0.08, 0.08, 33))
    return float(min(fine, key=lambda t: _nll(logits, labels, t)))


def reliability(probabilities, labels, bins=BINS):
    """Per confidence bin: (mean confidence, accuracy, count), for a reliability diagram."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == labels
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    count = np.bincount(index, minlength=bins)
    mean_confidence = np.bincount(index, confidence, bins) / np.maximum(count, 1)
    accuracy = np.bincount(index, right, bins) / np.maximum(count, 1)
    return mean_confidence, accuracy, count


def expected_calibration_error(probabilities, labels, bins=BINS):
    """The count-weighted gap between confidence and accuracy over equal-width confidence bins."""
    confidence, accuracy, count = reliability(probabilities, labels, bins)
    return float(np.sum(count * np.abs(confidence - accuracy)) / max(count.sum(), 1))


def calibrate(logits, labels):
    """Validation logits (N, 10) and labels -> {"temperature", "ece_before", "ece_after", "validation_images",
    "reliability"}."""
    temperature = fit_temperature(logits, labels)
    calibrated = softmax(logits, temperature)
    diagram = {
        name: dict(zip(("confidence", "accuracy", "count"), (v.tolist() for v in reliability(p, labels)), strict=True))
        for name, p in (("before", softmax(logits)), ("after", calibrated))
    }
    return {
        "temperature": temperature,
        "ece_before": expected_calibration_error(softmax(logits), labels),
        "ece_after": expected_calibration_error(calibrated, labels),
        "validation_images": int(len(labels)),
        "reliability": diagram,  # per confidence bin, for notebook 03's reliability diagram
    }
