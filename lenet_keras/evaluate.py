"""Test-set metrics for a trained model: accuracy, per-class accuracy, confusion matrix, report."""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from lenet_keras.data import preprocess
from lenet_keras.idx import load_mnist
from lenet_keras.runtime.files import atomic_path
from lenet_keras.views import VIEWS, mean_over_views, view_batch


def load_model(path):
    """Load a .keras model with safe_mode on; a missing or broken file gets a clear ValueError."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: model file not found; train one first with `lenet-keras train`.")
    import lenet_keras.losses  # noqa: F401  registers the custom layers and loss before deserialising
    import lenet_keras.model  # noqa: F401

    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a readable Keras model (a .keras file is a zip archive; this is not one).")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # zip, JSON and h5 errors all mean "not a usable model"
        raise ValueError(f"{path}: not a readable Keras model ({type(e).__name__}: {e}).") from None


def predict_logits(model, images, batch_size=2000, views=VIEWS):
    """Logits (N, 10) for raw uint8 images (N, 28, 28), through the shared preprocess: the mean of the model's
    logits over the image's views (views.py), as every export reads it.

    The model is called directly, a batch at a time, as Keras advises for inputs of this size:
    `model.predict` would first trace a predict function, which took longer than predicting.
    """
    batches = [
        model(preprocess(view_batch(images[i : i + batch_size, ..., None], views)), training=False)
        for i in range(0, len(images), batch_size)
    ]
    batches = [mean_over_views(b, views) for b in batches]
    return np.concatenate([keras.ops.convert_to_numpy(b) for b in batches]) if batches else np.zeros((0, 10), "float32")


def compute_metrics(y_true, y_pred):
    """Accuracy, per-class accuracy, confusion matrix and classification report as plain Python values."""
    cm = confusion_matrix(y_true, y_pred, labels=range(10))
    per_class = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    return {
        "test_accuracy": float(np.mean(y_true == y_pred)),
        "test_errors": int(np.sum(y_true != y_pred)),
        "test_images": int(len(y_true)),
        "per_class_accuracy": {str(d): float(a) for d, a in enumerate(per_class)},
        "confusion_matrix": cm.tolist(),
        "classification_report": classification_report(y_true, y_pred, digits=4, output_dict=True),
    }


def evaluate(model, mnist=None):
    """Evaluate on the 10,000 test images; returns (metrics dict, predicted labels)."""
    _, (x_test, y_test) = mnist if mnist is not None else load_mnist()
    y_pred = predict_logits(model, x_test).argmax(axis=1)
    return compute_metrics(y_test, y_pred), y_pred


def read_json(path):
    """Read a JSON file written by `write_json`."""
    return json.loads(Path(path).read_text())


def write_json(data, path):
    """Write JSON atomically (temporary file, then rename) and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2))
    return Path(path)
