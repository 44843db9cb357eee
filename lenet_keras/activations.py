"""What a trained LeNet-5 computes inside: C1's kernels, feature maps, F6 features and confidences."""

import keras
import numpy as np
from sklearn.decomposition import PCA

from lenet_keras.data import preprocess

FEATURE_LAYERS = ("C1", "S2", "C3", "S4")


def c1_kernels(model):
    """C1's six 5x5 kernels as an array (6, 5, 5)."""
    kernel = keras.ops.convert_to_numpy(model.get_layer("C1").kernel)  # (5, 5, 1, 6)
    return kernel[:, :, 0, :].transpose(2, 0, 1)


def _output_of(model, name):
    """A stage's output as the next stage reads it: after the layers named after it (classic's C3_squash,
    batch norm's C3_norm and C3_relu), which follow it in the chain."""
    stage = [layer for layer in model.layers if layer.name == name or layer.name.startswith(f"{name}_")]
    return stage[-1].output


def feature_maps(model, image, layers=FEATURE_LAYERS):
    """One raw 28x28 image -> {layer name: its maps (h, w, maps)}, as the next layer reads them."""
    probe = keras.Model(model.inputs, [_output_of(model, name) for name in layers])
    outputs = probe.predict(preprocess(np.asarray(image)[None]), verbose=0)
    return {name: maps[0] for name, maps in zip(layers, outputs, strict=True)}


def f6_and_probabilities(model, images, batch_size=1024):
    """Raw images (N, 28, 28) -> (F6 features (N, 84), softmax probabilities (N, 10))."""
    probe = keras.Model(model.inputs, [_output_of(model, "F6"), model.get_layer("output").output])
    features, logits = probe.predict(preprocess(images), batch_size=batch_size, verbose=0)
    return features, keras.ops.convert_to_numpy(keras.ops.softmax(logits))


def project_2d(features, seed=0):
    """Features (N, d) -> their first two principal components (N, 2)."""
    return PCA(n_components=2, random_state=seed).fit_transform(features)


def confidence_extremes(probabilities, count=10):
    """(most, least): indices of the `count` most confident predictions, surest first, and of the
    `count` least confident, least sure first."""
    order = np.argsort(np.asarray(probabilities).max(axis=1), kind="stable")[::-1]
    return order[:count], order[-count:][::-1]
