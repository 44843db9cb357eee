"""How far an image lies from the digits the model was trained on: the rule for "not a digit".

The top probability cannot tell a letter from a digit well: a network trained only on digits is sure of
many shapes it never saw. Its own features can: each training digit's C5 and F6 activations (204 numbers)
lie near its class's mean, and a letter's, a scribble's or a blob's lie far from every class's. The
distance is Mahalanobis's, with one covariance shared by the ten classes (Lee et al., 2018), fitted on the
training split's digits as they are (no augmentation: with it, the classes spread out and fewer non-digits
stood out). The threshold is the distance beyond which a given share of the validation digits fall
(REFUSED_DIGITS), so the rule is chosen on the validation split, never on the test set; the
exports fold the means, the whitening matrix and the threshold into their graphs (serving.DigitMargin).
Nothing is trained: the network, and every answer it gives, is the same.
"""

import keras
import numpy as np

from lenet_keras.data import preprocess

__all__ = ["REFUSED_DIGITS", "feature_model", "features", "fit_distance", "nearest_distance"]

REFUSED_DIGITS = 0.005  # the share of real digits (MNIST validation) refused as "not a digit"
RIDGE = 1e-3  # added to the covariance's diagonal: some ReLU features are zero on every training digit


def feature_model(model):
    """LeNet-5 (image -> logits) -> a model returning its C5 features (B, 120) and its F6 features (B, 84):
    the outputs of `flatten` and the input of the output layer, after their activations in both variants."""
    return keras.Model(model.inputs, [model.get_layer("flatten").output, model.layers[-1].input])


def features(model, images, batch_size=2048):
    """Raw MNIST-form pixels (N, 28, 28) -> float64 (N, 204): C5's and F6's activations side by side."""
    c5, f6 = feature_model(model).predict(preprocess(images), batch_size=batch_size, verbose=0)
    return np.concatenate([c5, f6], axis=1).astype(np.float64)


def nearest_distance(feats, means, whitening):
    """(N, D) features -> (N,): the squared Mahalanobis distance to the nearest class mean.

    whitening W satisfies W W^T = inverse covariance, so the distance is |f W - mean W|^2."""
    white, centres = feats @ whitening, means @ whitening
    return np.min(((white[:, None, :] - centres[None]) ** 2).sum(axis=-1), axis=1)


def fit_distance(model, train, val, refused=REFUSED_DIGITS):
    """(x_train, y_train) and (x_val, y_val) raw digits -> {"means" (10, D), "whitening" (D, D), "threshold",
    "refused", "features", "training_images"}: what every export carries to say "not a digit"."""
    (x_train, y_train), (x_val, _) = train, val
    feats = features(model, x_train)
    means = np.stack([feats[y_train == k].mean(axis=0) for k in range(10)])
    centred = feats - means[y_train]
    covariance = centred.T @ centred / len(feats) + RIDGE * np.eye(feats.shape[1])
    whitening = np.linalg.cholesky(np.linalg.inv(covariance))  # lower triangular, W W^T = covariance^-1
    threshold = float(np.quantile(nearest_distance(features(model, x_val), means, whitening), 1 - refused))
    return {
        "means": means,
        "whitening": whitening,
        "threshold": threshold,
        "refused": refused,
        "features": int(feats.shape[1]),
        "training_images": int(len(feats)),
    }
