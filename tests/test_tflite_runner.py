"""lenet_keras.runtime.tflite: a TensorFlow-free runner, checked against the TensorFlow function it came from."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lenet_keras.runtime.images import load_image
from lenet_keras.runtime.tflite import LOW_CONFIDENCE, TFLiteClassifier

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A softmax over a fixed linear map of raw pixels, as float32 and uint8-input int8 TFLite files."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    weights = tf.constant(rng.normal(0, 0.0005, (784, 10)).astype(np.float32))
    bias = tf.constant(rng.normal(0, 0.1, (10,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="pixels")])
    def model(pixels):
        return tf.nn.softmax(tf.reshape(pixels, [-1, 784]) @ weights + bias)

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="pixels")])
    def sure_of_three(pixels):
        return tf.nn.softmax(tf.reshape(pixels, [-1, 784]) @ (weights * 1e-3) + tf.one_hot(3, 10) * 20)

    @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 1], tf.float32, name="pixels")])
    def padded_model(pixels):
        return tf.reduce_mean(pixels, axis=[1, 2]) * tf.ones([1, 10])

    folder = tmp_path_factory.mktemp("models")

    def convert(function, int8=False):
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
        if int8:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: (
                [rng.integers(0, 256, (1, 28, 28, 1)).astype(np.float32)] for _ in range(50)
            )
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.uint8
            converter.inference_output_type = tf.float32
        return converter.convert()

    (folder / "float.tflite").write_bytes(convert(model))
    (folder / "int8.tflite").write_bytes(convert(model, int8=True))
    (folder / "sure_of_three.tflite").write_bytes(convert(sure_of_three))
    (folder / "padded.tflite").write_bytes(convert(padded_model))
    return {"tf": lambda x: model(np.asarray(x, np.float32).reshape(-1, 28, 28, 1)).numpy(), "folder": folder}


def random_pixels(n, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def test_float_model_matches_tensorflow(models):
    classifier = TFLiteClassifier(models["folder"] / "float.tflite")
    assert classifier.input_dtype == np.float32
    images = random_pixels(16)
    probabilities = classifier.predict_proba(images)
    assert probabilities.shape == (16, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities, models["tf"](images), atol=1e-5)
    np.testing.assert_allclose(classifier.predict_proba(images[..., None].astype(np.float64)), probabilities, atol=1e-6)


def test_int8_model_agrees_with_tensorflow(models):
    classifier = TFLiteClassifier(models["folder"] / "int8.tflite")
    assert classifier.input_dtype == np.uint8
    images = random_pixels(64)
    labels, probabilities = classifier.predict(images)
    expected = models["tf"](images)
    assert np.mean(labels == expected.argmax(axis=1)) >= 0.9
    assert np.abs(probabilities - expected).max() < 0.1
    float_labels, _ = classifier.predict(images.astype(np.float32))  # float pixels are quantised the same way
    assert np.array_equal(float_labels, labels)


def test_dynamic_batch_gives_the_same_answers(models):
    classifier = TFLiteClassifier(models["folder"] / "float.tflite")
    images = random_pixels(7)
    one = classifier.predict_proba(images[:1])
    seven = classifier.predict_proba(images)
    again = classifier.predict_proba(images[:1])
    assert one.shape == (1, 10) and seven.shape == (7, 10)
    np.testing.assert_allclose(seven[:1], one, atol=1e-6)
    np.testing.assert_array_equal(again, one)
    assert classifier.predict_proba(images[:0]).shape == (0, 10)


def test_predict_files(models, tmp_path):
    classifier = TFLiteClassifier(models["folder"] / "float.tflite")
    image = Image.new("L", (100, 140), 255)
    ImageDraw.Draw(image).line([(50, 10), (50, 130)], fill=0, width=12)
    image.save(tmp_path / "one.png")
    Image.new("L", (100, 140), 255).save(tmp_path / "blank.png")
    digit, blank = classifier.predict_files([tmp_path / "one.png", tmp_path / "blank.png"], top=3)
    expected = models["tf"](load_image(tmp_path / "one.png"))[0]
    assert digit["file"] == str(tmp_path / "one.png")
    assert [t["digit"] for t in digit["top"]] == list(np.argsort(expected)[::-1][:3])
    assert digit["top"][0]["probability"] == pytest.approx(expected.max(), abs=1e-5)
    # A model without a digit_margin output (this test's) refuses below LOW_CONFIDENCE.
    assert not classifier.knows_non_digits
    if expected.max() >= LOW_CONFIDENCE:
        assert digit["digit"] == expected.argmax() and digit["reason"] is None
    else:
        assert digit["digit"] is None and digit["reason"] == "not a digit"
    assert blank["digit"] is None and blank["reason"] == "no digit found" and len(blank["top"]) == 3
    sure = TFLiteClassifier(models["folder"] / "sure_of_three.tflite")
    digit, blank = sure.predict_files([tmp_path / "one.png", tmp_path / "blank.png"])
    assert digit["digit"] == 3 and blank["top"][0]["digit"] == 3 and blank["top"][0]["probability"] > 0.99
    assert blank["digit"] is None and blank["reason"] == "no digit found"  # however sure the model is
    with pytest.raises(ValueError, match=r"missing\.png: no such file"):
        classifier.predict_files([tmp_path / "missing.png"])


def test_bad_model_files_give_one_clear_sentence(models, tmp_path):
    good = (models["folder"] / "float.tflite").read_bytes()
    (tmp_path / "empty.tflite").write_bytes(b"")
    (tmp_path / "text.tflite").write_text("this is not a model\n")
    Image.new("L", (8, 8)).save(tmp_path / "image.png")
    (tmp_path / "image.tflite").write_bytes((tmp_path / "image.png").read_bytes())
    (tmp_path / "truncated.tflite").write_bytes(good[: len(good) // 2])
    expected = {
        "missing.tflite": r"missing\.tflite: not a readable TFLite model \(no such file\); check the path\.",
        "empty.tflite": r"empty\.tflite: not a readable TFLite model \(the file is empty\); export the model again\.",
        "text.tflite": r"text\.tflite: not a readable TFLite model \(no TFL3 identifier\); pass a \.tflite file",
        "image.tflite": r"image\.tflite: not a readable TFLite model \(no TFL3 identifier\)",
        "truncated.tflite": r"truncated\.tflite: not a readable TFLite model \(.+\); export the model again\.",
    }
    for name, message in expected.items():
        with pytest.raises(ValueError, match=message):
            TFLiteClassifier(tmp_path / name)
    with pytest.raises(ValueError, match=r"padded\.tflite: not a readable TFLite model \(input \[-1, 32, 32, 1\]"):
        TFLiteClassifier(models["folder"] / "padded.tflite")
    with pytest.raises(ValueError, match=r"images of shape \(28, 28\): expected \(N, 28, 28\)"):
        TFLiteClassifier(models["folder"] / "float.tflite").predict_proba(np.zeros((28, 28)))


def test_runner_and_images_do_not_import_tensorflow():
    code = (
        "import sys, lenet_keras.runtime.tflite, lenet_keras.runtime.images; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
