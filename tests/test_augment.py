"""The training distortions: reproducible, per image, and the identity when switched off."""

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from lenet_keras.augment import distort, elastic_field
from lenet_keras.data import BACKGROUND, DataConfig, compile_ahead, make_datasets, preprocess

SEED = tf.constant([0, 7], tf.int64)
STILL = DataConfig(rotation=0.0, zoom=0.0, shift=0.0, elastic_alpha=0.0, stretch=0.0, shear=0.0)  # all off


@pytest.fixture(scope="module")
def batch(mnist):
    (x_train, _), _ = mnist
    return preprocess(x_train[:64])


def test_same_seed_gives_the_same_batch(batch):
    config = DataConfig(elastic_alpha=34.0)
    first, again = distort(batch, config, SEED), distort(batch, config, SEED)
    other = distort(batch, config, SEED + 1)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert np.abs(first.numpy() - other.numpy()).mean() > 0.01


def test_no_distortion_and_zero_alpha_leave_images_unchanged(batch):
    np.testing.assert_array_equal(distort(batch, STILL, SEED).numpy(), batch.numpy())
    # Only the elastic field, with alpha 0: still the identity.
    np.testing.assert_array_equal(distort(batch, replace(STILL, elastic_alpha=0.0), SEED + 5).numpy(), batch.numpy())


def test_elastic_alone_moves_ink_but_keeps_the_digit(batch):
    warped = distort(batch, replace(STILL, elastic_alpha=34.0), SEED).numpy()
    original = batch.numpy()
    assert np.abs(warped - original).mean() > 0.02  # the strokes moved
    assert warped.min() >= BACKGROUND - 1e-6 and warped.max() <= original.max() + 1e-6  # bilinear: no new values
    ink = (original > 0.5).sum(axis=(1, 2, 3)), (warped > 0.5).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(ink[1], ink[0], rtol=0.35)  # the same digit, bent, not erased or smeared


def test_the_field_is_different_for_each_image():
    field = elastic_field(8, 32, 32, 34.0, 4.0, SEED).numpy()  # (B, H, W, 2)
    assert field.shape == (8, 32, 32, 2)
    flat = field.reshape(8, -1)
    correlation = np.corrcoef(flat)[~np.eye(8, dtype=bool)]
    assert np.abs(correlation).max() < 0.9  # no two images share a field
    dx, dy = field[..., 0].ravel(), field[..., 1].ravel()
    assert abs(np.corrcoef(dx, dy)[0, 1]) < 0.3  # x and y move independently (not along a diagonal)
    assert 0.5 < field.std() < 3.0  # about Simard's displacement for alpha 34, sigma 4: a pixel or two


def test_the_field_is_smooth_like_a_gaussian_blur_of_noise():
    field = elastic_field(256, 32, 32, 34.0, 4.0, SEED).numpy()[..., 0]
    neighbours = np.corrcoef(field[:, 16, 10], field[:, 16, 11])[0, 1]
    far = np.corrcoef(field[:, 16, 4], field[:, 16, 28])[0, 1]
    assert neighbours > 0.9 and abs(far) < 0.2


def test_training_pipeline_is_reproducible_and_changes_every_epoch(mnist):
    (x_train, y_train), test = mnist
    small = ((x_train[:1200], y_train[:1200]), test)
    config = DataConfig(validation_size=200, batch_size=100, elastic_alpha=34.0)

    def first_batch(dataset):
        return next(iter(dataset))[0].numpy()

    train, _, _ = make_datasets(config, mnist=small)
    epoch1, epoch2 = first_batch(train), first_batch(train)
    again, _, _ = make_datasets(config, mnist=small)
    np.testing.assert_array_equal(first_batch(again), epoch1)
    assert not np.array_equal(epoch1, epoch2)


def test_an_epochs_smaller_last_batch_is_distorted_like_the_others(mnist):
    """The last batch is padded to the batch size for the compiled distortion, then cut back: every image
    comes out once, distorted, and none of the padding does."""
    (x_train, y_train), test = mnist
    small = ((x_train[:1000], y_train[:1000]), test)
    config = DataConfig(validation_size=200, batch_size=300, elastic_alpha=16.0)  # 800 images: 300, 300, 200
    plain, _, _ = make_datasets(replace(config, augment=False), mnist=small)
    train, _, _ = make_datasets(config, mnist=small)
    batches = list(train)
    assert [len(labels) for _, labels in batches] == [300, 300, 200]
    labels = np.concatenate([labels.numpy().argmax(axis=1) for _, labels in batches])  # one-hot targets
    assert sorted(labels) == sorted(np.concatenate([labels.numpy().argmax(axis=1) for _, labels in plain]))
    last = batches[-1][0].numpy()
    assert not np.isclose(last, BACKGROUND).all(axis=(1, 2, 3)).any()  # no blank padding image came out
    undistorted = {image.tobytes() for images, _ in plain for image in images.numpy()}
    assert not any(image.tobytes() in undistorted for image in last)
    inked = np.array([(images.numpy() > 0.5).mean() for images, _ in batches])
    assert inked.max() - inked.min() < 0.2 * inked.mean()  # the last batch carries digits like the rest


def test_compile_ahead_compiles_the_training_distortion_once_in_the_background():
    thread = compile_ahead(DataConfig(batch_size=64))
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert compile_ahead(DataConfig(augment=False)) is None


def test_slant_and_stretch_tilt_and_widen_a_bar():
    """A vertical bar under shear alone leans (its top and bottom move apart); under stretch alone it widens
    or narrows but stays upright."""
    bar = np.full((16, 32, 32, 1), BACKGROUND, np.float32)
    bar[:, 6:26, 15:17] = 1.0
    bar = tf.constant(bar)

    def columns(images, rows):
        ink = images.numpy()[:, rows, :, 0] > 0.5
        return np.array([np.flatnonzero(i.any(axis=0)).mean() for i in ink])

    slanted = distort(bar, replace(STILL, shear=20.0), SEED)
    lean = np.abs(columns(slanted, slice(6, 10)) - columns(slanted, slice(22, 26)))
    assert lean.max() > 2.0 and lean.min() >= 0.0
    widths = (distort(bar, replace(STILL, stretch=0.5), SEED).numpy()[:, 16, :, 0] > 0.2).sum(axis=1)
    assert widths.max() > widths.min()  # a different width for different images
    stretched = distort(bar, replace(STILL, stretch=0.5), SEED)
    np.testing.assert_allclose(columns(stretched, slice(6, 10)), columns(stretched, slice(22, 26)), atol=0.6)
