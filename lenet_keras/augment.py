"""Training distortions: a random affine transform per image, composed with an elastic one.

Elastic distortions follow Simard, Steinkraus & Platt (ICDAR 2003): a displacement field
drawn uniformly in [-1, 1] and smoothed by a Gaussian of width sigma, scaled by alpha.
The affine map and the elastic field are composed into one sampling grid, so each image
is resampled once, and the whole distortion is compiled with XLA: fused into one loop, the
per-pixel gathers cost a fifth of what separate TensorFlow ops cost on this CPU.

keras.layers.RandomElasticTransform (Keras 3.15) was not used: it draws its x and y
displacements from the same seed (so every pixel moves along the diagonal), and with a
batch dimension unknown at trace time, as in tf.data, it uses one field for the whole batch.
"""

import numpy as np
import tensorflow as tf

__all__ = ["affine_grid", "elastic_field", "sample_bilinear", "distort"]

CELL = 4  # the elastic noise is drawn per CELL x CELL pixels (see elastic_field)


def affine_grid(n, height, width, rotation, zoom, shift, seed, stretch=0.0, shear=0.0):
    """Source coordinates (x, y), each (B, H, W), of a random rotation (up to `rotation` degrees),
    zoom (up to a fraction `zoom`) and shift (up to `shift` pixels) per image, about the centre; then
    a width-to-height ratio changed by up to a fraction `stretch` and a slant of up to `shear` degrees
    (people write narrow and wide digits, upright and slanted; a scanner may squeeze them)."""
    seeds = tf.random.experimental.stateless_split(seed, 6)

    def uniform(i, limit):
        return tf.reshape(tf.random.stateless_uniform([n], seeds[i], -limit, limit), [-1, 1, 1])  # (B, 1, 1)

    angle = uniform(0, np.deg2rad(rotation))
    scale = 1.0 + uniform(1, zoom)
    tx, ty = uniform(2, shift), uniform(3, shift)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    cy, cx = (height - 1) / 2, (width - 1) / 2
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    if stretch or shear:
        dx = dx * tf.exp(uniform(4, np.log1p(stretch))) - tf.tan(uniform(5, np.deg2rad(shear))) * dy
    x = cos * dx - sin * dy + cx - tx
    y = sin * dx + cos * dy + cy - ty
    return x, y


def smoothing_matrix(size, sigma):
    """(size, cells) matrix: Gaussian blur (width sigma pixels) of noise drawn per CELL pixels, then
    linear interpolation back to every pixel. Blur and interpolation are both linear and separable,
    so the whole field is M @ noise @ M.T, a few small matrix products."""
    cells = -(-size // CELL)
    centres = (np.arange(cells) + 0.5) * CELL - 0.5  # pixel coordinate of each cell's centre
    blur = np.exp(-0.5 * ((centres[:, None] - centres[None, :]) / sigma) ** 2)
    blur /= blur.sum(axis=1, keepdims=True)
    pixels = np.arange(size, dtype=np.float64)
    # Linear interpolation weights from cell centres to pixels ("hat" functions, clamped at the ends).
    hat = np.maximum(0, 1 - np.abs(pixels[:, None] - centres[None, :]) / CELL)
    hat /= hat.sum(axis=1, keepdims=True)
    return (hat @ blur).astype(np.float32)


def elastic_field(n, height, width, alpha, sigma, seed):
    """(B, H, W, 2) displacements (dx, dy) in pixels: a new smooth random field for every image.

    Simard et al. draw uniform noise per pixel and blur it with a Gaussian of width sigma. A field
    that smooth carries nothing finer than a few pixels, so here the noise is drawn once per
    4x4-pixel cell, blurred on that coarse grid and interpolated back: 16 times less noise to draw
    and blur. Each cell's noise stands for 16 pixels' worth, so it is scaled by 1/4 to keep the
    standard deviation of the per-pixel field.
    """
    rows, cols = smoothing_matrix(height, sigma), smoothing_matrix(width, sigma)
    noise = tf.random.stateless_uniform([n, rows.shape[1], cols.shape[1], 2], seed, -1.0, 1.0) / CELL
    return alpha * tf.einsum("yi,bijc,xj->byxc", rows, noise, cols)


def sample_bilinear(images, x, y):
    """Sample (B, H, W, 1) images at source coordinates x, y, each (B, H, W), bilinearly.

    Coordinates are clamped to the image. Its outer pixels are background (MNIST's own margin plus
    the 2-pixel padding of `preprocess`), so a point outside the image reads background.
    """
    height, width = images.shape[1], images.shape[2]
    x = tf.clip_by_value(x, 0.0, width - 1.0)
    y = tf.clip_by_value(y, 0.0, height - 1.0)
    x0, y0 = tf.minimum(tf.floor(x), width - 2.0), tf.minimum(tf.floor(y), height - 2.0)
    fx, fy = x - x0, y - y0  # (B, H, W), in [0, 1]
    pixels = tf.reshape(images, [-1])
    first = tf.range(tf.shape(images)[0])[:, None, None] * (height * width)  # each image's offset
    i = first + tf.cast(y0, tf.int32) * width + tf.cast(x0, tf.int32)  # top-left neighbour, (B, H, W)
    top_left, top_right = tf.gather(pixels, i), tf.gather(pixels, i + 1)
    bottom_left, bottom_right = tf.gather(pixels, i + width), tf.gather(pixels, i + width + 1)
    top = top_left + fx * (top_right - top_left)
    bottom = bottom_left + fx * (bottom_right - bottom_left)
    return (top + fy * (bottom - top))[..., tf.newaxis]


@tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
def _distort(images, seed, rotation, zoom, shift, alpha, sigma, stretch, shear):
    n, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    affine_seed, elastic_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    x, y = affine_grid(n, height, width, rotation, zoom, shift, affine_seed, stretch, shear)
    if alpha:
        field = elastic_field(n, height, width, alpha, sigma, elastic_seed)
        x, y = x + field[..., 0], y + field[..., 1]
    return sample_bilinear(images, x, y)


def distort(images, config, seed):
    """The training distortion of a (B, H, W, 1) batch: a random affine transform per image, composed
    with an elastic field when config.elastic_alpha > 0. The same stateless seed gives the same batch."""
    return _distort(
        images,
        tf.cast(seed, tf.int64),
        rotation=float(config.rotation),
        zoom=float(config.zoom),
        shift=float(config.shift),
        alpha=float(config.elastic_alpha),
        sigma=float(config.elastic_sigma),
        stretch=float(config.stretch),
        shear=float(config.shear),
    )
