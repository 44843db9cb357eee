"""The views the model reads each image in: the image itself, a little smaller and larger, a little turned.

A digit's size and slant in the 28x28 frame are what real handwriting varies most after the pen, and the
network's answer moves with them. The answer is the softmax of the mean of the network's logits over the views
(test-time augmentation), and the not-a-digit head's logit the mean of its logits over the same views. Chosen
on MNIST's validation split (seed 0's 5,000 digits, the shipped model, each reading with its own temperature):
negative log-likelihood 0.0263 on the image alone, 0.0226 with the image scaled to 26 and 30 px (release 1.2's
three views), 0.0214 with those and the image turned 10 degrees each way (these five; 5 or 8 degrees 0.0223
and 0.0217, 12 degrees 0.0212 for one USPS digit fewer read right); validation accuracy 99.28%, 99.42%, 99.50%
(README, "Views"). Keras evaluation, calibration, the not-a-digit threshold and every export read through
`view_batch` and `mean_over_views`; training does not (its augmentation scales and turns digits already).

Each view is a bilinear resampling of the 28x28 frame about its centre (pixel 13.5, 13.5), a source outside the
frame reading as raw 0 (the paper): a scale is `ops.image.resize`, cut or padded back to 28x28; a turn gathers
four source pixels per output pixel with fixed weights (`view_taps`), as Pillow's `rotate` computes it. A
gather, a product and a sum are plain TFLite and ONNX ops; a rotation op (ImageProjectiveTransform) is neither,
and gathering the scaled views too would have cost 25 KB of indices and weights each in the int8 file.
"""

import numpy as np
from keras import ops

__all__ = ["ALONE", "VIEWS", "mean_over_views", "numpy_views", "view_batch", "view_taps"]

# (frame size in px the 28 px image is scaled to, degrees turned anticlockwise): the image first.
VIEWS = ((28, 0.0), (26, 0.0), (30, 0.0), (28, 10.0), (28, -10.0))
ALONE = ((28, 0.0),)  # the image alone: one view


def view_taps(size, degrees):
    """The view's resampling: (indices (784, 4) int32 into the flattened image with a raw-0 pixel appended at
    784, weights (784, 4) float32): output pixel k = sum of weights[k] * pixels[indices[k]]."""
    turn = np.deg2rad(degrees)
    scale = size / 28
    y, x = np.indices((28, 28), dtype=np.float64).reshape(2, -1) - 13.5
    # The inverse map, output -> source: turned back by the angle (anticlockwise on the page), then unscaled.
    sx = (np.cos(turn) * x - np.sin(turn) * y) / scale + 13.5
    sy = (np.sin(turn) * x + np.cos(turn) * y) / scale + 13.5
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = sx - x0, sy - y0
    indices, weights = [], []
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < 28) & (xx >= 0) & (xx < 28)
        indices.append(np.where(inside, yy * 28 + xx, 784))
        weights.append(np.where(inside, w, 0.0))
    return np.stack(indices, 1).astype(np.int32), np.stack(weights, 1).astype(np.float32)


def _scaled(pixels, size):
    """Raw pixels (B, 28, 28, 1) float -> the image scaled to size x size about its centre, in a 28x28 frame (padded
    with raw 0, the paper, or cut)."""
    scaled = ops.image.resize(pixels, (size, size), interpolation="bilinear")
    if size < 28:
        before = (28 - size) // 2
        return ops.pad(scaled, ((0, 0), (before, 28 - size - before), (before, 28 - size - before), (0, 0)))
    start = (size - 28) // 2
    return scaled[:, start : start + 28, start : start + 28, :]


def _view(pixels, size, degrees):
    """Raw pixels (B, 28, 28, 1) float -> the view (B, 28, 28, 1)."""
    if degrees == 0:
        return pixels if size == 28 else _scaled(pixels, size)
    indices, weights = view_taps(size, degrees)
    flat = ops.reshape(pixels, (-1, 784))
    flat = ops.concatenate([flat, ops.zeros_like(flat[:, :1])], axis=1)  # pixel 784: the paper
    taps = ops.reshape(ops.take(flat, indices.reshape(-1), axis=1), (-1, 784, 4))
    return ops.reshape(ops.sum(taps * weights, axis=-1), (-1, 28, 28, 1))


def view_batch(pixels, views=VIEWS):
    """Raw pixels (B, 28, 28, 1) -> (len(views) * B, 28, 28, 1): every view of the batch, view after view."""
    pixels = ops.cast(pixels, "float32")
    if len(views) == 1:
        return _view(pixels, *views[0])
    return ops.concatenate([_view(pixels, *view) for view in views], axis=0)


def mean_over_views(x, views=VIEWS):
    """(len(views) * B, k), as `view_batch` ordered the batch -> (B, k): the mean over each image's views."""
    if len(views) == 1:
        return x
    return ops.mean(ops.reshape(x, (len(views), -1, int(x.shape[-1]))), axis=0)


def numpy_views(images, views=VIEWS):
    """Raw pixels (N, 28, 28) -> float32 (len(views) * N, 28, 28), `view_batch` on numpy arrays."""
    x = np.asarray(images, np.float32)[..., np.newaxis]
    return ops.convert_to_numpy(view_batch(x, views))[..., 0]
