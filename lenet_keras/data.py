"""The one preprocessing function and the tf.data pipelines built on it."""

import threading
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from lenet_keras.augment import distort
from lenet_keras.idx import load_mnist
from lenet_keras.pen import strike, vary_pen

__all__ = [
    "load_mnist",
    "preprocess",
    "split_validation",
    "make_datasets",
    "compile_ahead",
    "batch_augmentation",
    "DataConfig",
]

PAD = 2  # 28x28 MNIST -> LeNet-5's 32x32 input, as in the paper
# LeCun et al. (1998): background -0.1, foreground 1.175, so the mean is about 0
# and the variance about 1.
BACKGROUND, FOREGROUND = -0.1, 1.175


def preprocess(images):
    """Raw 0-255 pixels (N, 28, 28[, 1]) -> float32 (N, 32, 32, 1), padded and normalised.

    Training, evaluation, the exported SavedModel/TFLite graphs and `predict` all go
    through this function (the last two because it is baked into the exported graph).
    """
    x = tf.cast(images, tf.float32)
    if x.shape.rank == 3:
        x = x[..., tf.newaxis]
    x = tf.pad(x, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])  # pads with raw 0 = background
    return x * ((FOREGROUND - BACKGROUND) / 255.0) + BACKGROUND


@dataclass(frozen=True)
class DataConfig:
    batch_size: int = 512  # augmented training on 2 cores: 18.4k images/s at 512, 16.4k at 256, 15.8k at 128
    validation_size: int = 5000
    limit: int | None = None  # train on the first N training images (quick runs)
    augment: bool = True
    shift: float = 2.5  # random shifts up to this many pixels
    rotation: float = 7.0  # random rotations up to this many degrees
    zoom: float = 0.08  # random scaling by up to this fraction
    # Narrow and wide, upright and slanted digits: the width-to-height ratio changed by up to this fraction
    # (0.25: x0.8 to x1.25) and a slant of up to `shear` degrees. 15-epoch runs, seed 0, with pen=0.3: USPS
    # 98.1% and Semeion 93.7% (MNIST validation 99.30%), where without them pen=0.5 read 97.8% and 92.3% (99.18%).
    stretch: float = 0.25
    shear: float = 15.0
    elastic_alpha: float = 16.0  # elastic distortion strength (Simard et al. 2003, who used 34); 0 turns it off
    elastic_sigma: float = 4.0  # smoothness of the elastic field (Gaussian width in pixels)
    # Chance per image of each pen and page variation (pen.py); 0 turns them off. 15-epoch runs, seed 0:
    # 0.3 read USPS 98.1% and Semeion 93.0% where 0 read 97.4% and 87.1% (MNIST validation 99.12%, 99.24%).
    pen: float = 0.3
    # Non-digits made by negatives.py and trained towards a uniform output (outlier exposure); 0: none.
    # Off by default: 5,000 (15 epochs, seed 0) refused 81% of held-out non-digits where none refused 36%, but
    # read Semeion 91.7% instead of 92.3% and refused 10% of its digits (docs/experiments.md, "Not a digit").
    negatives: int = 0
    # Chance per image of a zigzag of full ink across the digit (pen.strike); 0 turns it off. Off by default:
    # at 0.1 (50 epochs, seeds 0 and 1) MNIST-C's zigzag read 88.7% and 90.7% where the shipped model reads
    # 70.3%, but Semeion fell 0.75 and 1.8 points and UCI's 8x8 digits 1.0 and 1.2 (docs/experiments.md, "The zigzag").
    strike: float = 0.0
    # Share of the training 1s given a continental lead-in (hands.py); 0: none. Off by default: at 0.5 (50 epochs,
    # seed 0) drawn continental 1s read 97% where the shipped model reads 33%, but 7s tilted by 30 degrees, the
    # same shape, read 1, and Semeion fell 0.4 points (docs/experiments.md, "Continental 1s").
    lead_in: float = 0.0
    seed: int = 0


def split_validation(x, y, validation_size, seed=0):
    """Hold out `validation_size` training images (a seeded random draw) for validation."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:validation_size], order[validation_size:]
    return (x[train], y[train]), (x[val], y[val])


# On a 2-core machine tf.data's autotuner and its extra threads compete with the training step
# for the cores, and epochs took 2.5 s or 5 s at random. One private thread, a fixed prefetch
# of two batches, and no autotuning keep every epoch at the fast time.
_PIPELINE_OPTIONS = tf.data.Options()
_PIPELINE_OPTIONS.autotune.enabled = False
_PIPELINE_OPTIONS.threading.private_threadpool_size = 1


# The functions mapped over the data have no Python control flow on tensors: without this, AutoGraph
# rewrote their source (and that of everything they call) at each run: 0.8 s for nothing.
_plain = tf.autograph.experimental.do_not_convert


def targets(labels, classes=10):
    """Integer labels (N,) -> one-hot float32 targets (N, classes); a label of -1 (not a digit) -> uniform."""
    labels = np.asarray(labels)
    one_hot = np.eye(classes, dtype=np.float32)[np.clip(labels, 0, classes - 1)]
    one_hot[labels < 0] = 1.0 / classes
    return one_hot


def _pipeline(x, y, batch_size, shuffle=False, augment=None, seed=0):
    # The raw uint8 images stay in memory (a quarter of their float32 size); each epoch shuffles only
    # the indices, gathers whole batches and preprocesses them a batch at a time (no per-image Python).
    images, labels = tf.constant(x), tf.constant(targets(y))
    ds = tf.data.Dataset.range(len(x))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(_plain(lambda i: (preprocess(tf.gather(images, i)), tf.gather(labels, i))))
    if augment is not None:
        augment = _at_batch_size(augment, batch_size)
        # Each batch gets its own stateless seed, new every epoch and reproducible from `seed`.
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip(ds, batch_seeds).map(
            _plain(lambda batch, r: (augment(batch[0], tf.stack([tf.cast(seed, tf.int64), r])), batch[1])),
        )
    return ds.prefetch(2).with_options(_PIPELINE_OPTIONS)


def _at_batch_size(augment, batch_size):
    """`augment` run on batches padded to `batch_size` images, the padding cut off again: XLA compiles it
    for that one shape, not a second time (0.8 s) for an epoch's smaller last batch."""

    def padded(images, seed):
        n = tf.shape(images)[0]
        full = tf.pad(images, [[0, batch_size - n], [0, 0], [0, 0], [0, 0]], constant_values=BACKGROUND)
        return augment(tf.ensure_shape(full, [batch_size, *images.shape[1:]]), seed)[:n]

    return padded


def _augmentation(config):
    if not config.augment:
        return None

    def augment(images, seed):
        geometry_seed, pen_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        images = distort(images, config, geometry_seed)
        if not config.pen and not config.strike:
            return images
        span = FOREGROUND - BACKGROUND  # pen.py works on ink in 0..1
        ink = vary_pen((images - BACKGROUND) / span, config.pen, pen_seed)
        if config.strike:  # its own stream: the pen's stays as it was without it
            ink = strike(ink, config.strike, tf.random.experimental.stateless_fold_in(pen_seed, 1))
        return ink * span + BACKGROUND

    return augment


def batch_augmentation(config):
    """The training augmentation as a function (images (B, 32, 32, 1) preprocessed, stateless seed (2,)) -> images,
    compiled for batches of config.batch_size (smaller ones are padded); None when config.augment is off."""
    augment = _augmentation(config)
    return None if augment is None else _at_batch_size(augment, config.batch_size)


def with_negatives(x, y, config):
    """The training digits plus config.negatives non-digits (label -1), drawn from the digits' own seed."""
    if not config.negatives:
        return x, y
    from lenet_keras.negatives import make_negatives  # Pillow and fonts: only when asked for

    negatives, _ = make_negatives(config.negatives, seed=config.seed, digits=x, labels=y)
    return np.concatenate([x, negatives]), np.concatenate([y.astype(np.int64), np.full(len(negatives), -1)])


def compile_ahead(config, shape=(32, 32, 1)):
    """Start compiling the training augmentation for full batches on another thread and return the
    thread (None when config.augment is off).

    Keras spends its first seconds tracing the training step, in Python, on one core; XLA can compile
    the augmentation on the other one meanwhile, instead of after it, when the first batch is asked for.
    It runs through tf.data, because tf.data pipelines share their compiled functions with each other
    (not with eager calls).
    """
    if not config.augment:
        return None
    augment = batch_augmentation(config)
    seed = tf.constant([0, 0], tf.int64)
    blank = tf.fill([config.batch_size, *shape], BACKGROUND)
    warm_up = tf.data.Dataset.from_tensors(blank).map(_plain(lambda x: augment(x, seed)))
    thread = threading.Thread(target=lambda: next(iter(warm_up)), name="compile-augmentation")
    thread.start()
    return thread


def make_datasets(config=DataConfig(), mnist=None):
    """Return (train, validation, test) tf.data.Datasets of (32x32x1 float32, one-hot float32 target (10,))."""
    (x_train, y_train), (x_test, y_test) = mnist if mnist is not None else load_mnist()
    (x_train, y_train), (x_val, y_val) = split_validation(x_train, y_train, config.validation_size, config.seed)
    if config.limit:
        x_train, y_train = x_train[: config.limit], y_train[: config.limit]
    if config.lead_in:
        from lenet_keras.hands import with_lead_ins  # Pillow and to_mnist: only when asked for, as negatives

        x_train = with_lead_ins(x_train, y_train, config.lead_in, config.seed)
    x_train, y_train = with_negatives(x_train, y_train, config)
    augment = _augmentation(config)
    train = _pipeline(x_train, y_train, config.batch_size, shuffle=True, augment=augment, seed=config.seed)
    val = _pipeline(x_val, y_val, 1024)
    test = _pipeline(x_test, y_test, 1024)
    return train, val, test
