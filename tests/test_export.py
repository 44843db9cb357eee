"""Exported models against their oracle, the Keras model; atomic writes; the shipped release and its bundled copy."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from lenet_keras.views import ALONE, VIEWS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "saved_models"


@pytest.fixture(scope="module")
def exported(mnist, tmp_path_factory):
    from lenet_keras.pipeline import export_and_check

    out = tmp_path_factory.mktemp("export")
    return export_and_check(SHIPPED / "lenet5.keras", out_dir=out, mnist=mnist)


def test_parity_with_keras_on_the_full_test_set(exported):
    rows = {r["format"]: r for r in exported["rows"]}
    assert rows["savedmodel"]["agreement_with_keras"] == 1.0
    assert rows["tflite_float32"]["agreement_with_keras"] >= 0.999
    assert abs(rows["tflite_int8"]["test_accuracy"] - rows["tflite_float32"]["test_accuracy"]) <= 0.001
    # 69,568 B in 1.1; the digit_margin output (detector.py: a 604 x 64 x 1 head) adds about 41 KB, the two
    # turned views (views.py: 784 x 4 int32 indices and weights each) 35 KB
    assert rows["tflite_int8"]["size_bytes"] <= 150_000
    assert rows["onnx"]["agreement_with_keras"] >= 0.999
    assert "tflite_int8" in exported["table"]
    assert json.loads((exported["paths"]["int8"].parent / "parity.json").read_text())["rows"] == exported["rows"]


def test_exported_contract_raw_pixels_in_probabilities_out(exported, mnist):
    from lenet_keras.runtime.tflite import TFLiteClassifier

    _, (x_test, _) = mnist
    for name, dtype in [("float32", np.float32), ("int8", np.uint8)]:
        model = TFLiteClassifier(exported["paths"][name])
        details = model.interpreter.get_input_details()[0]
        assert details["dtype"] == dtype and list(details["shape_signature"]) == [-1, 28, 28, 1]
        if name == "int8":
            # raw pixels go in unchanged: the scale is 1 to float precision (the views' concatenation shares the
            # input's range with the resized views', 1.0000001 here), so round(p / scale) = p for every p in 0-255
            scale, zero_point = details["quantization"]
            assert zero_point == 0 and abs(scale - 1.0) < 1e-6
        for batch in (1, 7, 1):  # dynamic batch
            p = model.predict_proba(x_test[:batch])
            assert p.shape == (batch, 10) and p.dtype == np.float32
            np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=0.02)


def test_saved_model_serves_raw_pixels(exported, mnist):
    import keras
    import tensorflow as tf

    from lenet_keras.calibrate import softmax
    from lenet_keras.detector import DETECTOR_NAME, digit_scores, feature_model
    from lenet_keras.evaluate import load_model, predict_logits
    from lenet_keras.negatives import make_negatives
    from lenet_keras.pipeline import split_outputs

    _, (x_test, _) = mnist
    refusal = json.loads((SHIPPED / "metrics.json").read_text())["refusal"]
    serve = tf.saved_model.load(str(exported["paths"]["saved_model"])).signatures["serve"]
    others, _ = make_negatives(64, seed=7, held_out=True)
    pixels = np.concatenate([x_test[:64], others])
    probs, margin = split_outputs([t.numpy() for t in serve(tf.constant(pixels[..., None], tf.float32)).values()])
    model = load_model(SHIPPED / "lenet5.keras")
    np.testing.assert_allclose(probs, softmax(predict_logits(model, pixels), refusal["temperature"]), atol=1e-5)
    # The margin is tanh(z / 2) of the not-a-digit head's logit z, the head metrics.json names.
    head = keras.saving.load_model(SHIPPED / refusal["detector"])
    assert refusal["detector"] == DETECTOR_NAME
    expected = np.tanh(digit_scores(feature_model(model), head, pixels) / 2)
    np.testing.assert_allclose(margin, expected, atol=1e-4)
    assert (margin[:64] >= 0).mean() > 0.95 and (margin[64:] < 0).mean() > 0.6  # digits kept, non-digits refused


def test_every_export_carries_the_refusal_rule(exported, mnist):
    """The same digit_margin from TFLite (float and int8), ONNX and the SavedModel, on digits and non-digits."""
    from lenet_keras.negatives import make_negatives
    from lenet_keras.pipeline import onnx_outputs
    from lenet_keras.runtime.tflite import TFLiteClassifier

    _, (x_test, y_test) = mnist
    others, _ = make_negatives(200, seed=99, held_out=True)
    pixels = np.concatenate([x_test[:300], others])[..., None]
    float32 = TFLiteClassifier(exported["paths"]["float32"]).digit_margin(pixels)
    _, onnx = onnx_outputs(exported["paths"]["onnx"], pixels)
    np.testing.assert_allclose(onnx, float32, atol=1e-5)
    int8 = TFLiteClassifier(exported["paths"]["int8"]).digit_margin(pixels)
    assert np.mean((int8 < 0) == (float32 < 0)) >= 0.99
    rows = {r["format"]: r for r in exported["rows"]}
    assert all(rows[f]["refused_digits"] <= 0.01 for f in ("savedmodel", "tflite_float32", "tflite_int8", "onnx"))


def test_the_release_loads_with_plain_keras_in_a_session_without_lenet_keras(mnist_dir):
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, keras\n"
        "model = keras.saving.load_model(sys.argv[1])\n"  # the standard call, compile included
        "x = np.load(sys.argv[2])\n"
        "x = np.pad(x, ((0, 0), (2, 2), (2, 2))) * (1.275 / 255) - 0.1\n"  # what lenet_keras.preprocess does
        "print(' '.join(map(str, model.predict(x[..., None], verbose=0).argmax(axis=1))))\n"
        "assert model.loss is not None and not any(name.startswith('lenet_keras') for name in sys.modules)\n"
    )
    from lenet_keras.evaluate import load_model, predict_logits
    from lenet_keras.idx import load_mnist

    _, (x_test, _) = load_mnist(mnist_dir)
    images = Path(os.environ.get("TMPDIR", "/tmp")) / f"lenet-plain-keras-{os.getpid()}.npy"
    np.save(images, x_test[:500])
    try:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        result = subprocess.run(
            [sys.executable, "-c", code, str(SHIPPED / "lenet5.keras"), str(images)],
            capture_output=True, text=True, env=env, cwd="/", check=False,
        )
    finally:
        images.unlink(missing_ok=True)
    assert result.returncode == 0, result.stderr[-2000:]
    plain = [int(d) for d in result.stdout.split()]
    # Plain Keras reads the image as it is: the first of the image's views (views.py), alone
    assert plain == predict_logits(load_model(SHIPPED / "lenet5.keras"), x_test[:500], views=ALONE).argmax(1).tolist()


@pytest.mark.parametrize("failing", ["int8", "onnx"])
def test_failed_export_leaves_previous_artifacts_untouched(tmp_path, monkeypatch, failing):
    import keras

    from lenet_keras import export
    from lenet_keras.model import build_lenet5

    for name in (export.TFLITE_FLOAT, export.TFLITE_INT8, export.ONNX):
        (tmp_path / name).write_bytes(b"previous " + name.encode())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def convert(saved_model_dir, calibration_images=None):
        if failing == "int8" and calibration_images is not None:
            raise RuntimeError("converter crashed")
        return b"new tflite model"

    def fail_onnx(model, path, refusal=None):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(export, "convert_tflite", convert)
    if failing == "onnx":
        monkeypatch.setattr(export, "export_onnx", fail_onnx)
    keras.utils.set_random_seed(0)
    with pytest.raises(RuntimeError, match="converter crashed"):
        export.export_all(build_lenet5(), tmp_path, calibration_images=np.zeros((4, 28, 28), np.uint8))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no staging folder left either


def test_shipped_models_reach_their_recorded_accuracy(mnist):
    """The committed TFLite and ONNX release, run without TensorFlow, still scores what parity.json records."""
    from lenet_keras.pipeline import onnx_outputs
    from lenet_keras.runtime.tflite import TFLiteClassifier

    _, (x_test, y_test) = mnist
    recorded = {r["format"]: r for r in json.loads((SHIPPED / "parity.json").read_text())["rows"]}
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    assert recorded["keras"]["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert metrics["test_accuracy"] >= 0.993
    for name in ("float32", "int8"):
        path = SHIPPED / f"lenet5_{name}.tflite"
        accuracy = float((TFLiteClassifier(path, num_threads=2).predict(x_test)[0] == y_test).mean())
        assert accuracy == pytest.approx(recorded[f"tflite_{name}"]["test_accuracy"], abs=5e-4), name
        assert os.path.getsize(path) == recorded[f"tflite_{name}"]["size_bytes"]
    onnx_pred = onnx_outputs(SHIPPED / "lenet5.onnx", x_test[..., None])[0].argmax(axis=1)
    assert float((onnx_pred == y_test).mean()) == pytest.approx(recorded["onnx"]["test_accuracy"], abs=5e-4)
    assert os.path.getsize(SHIPPED / "lenet5.onnx") == recorded["onnx"]["size_bytes"]


def test_bundled_model_is_the_release():
    """`predict` without a model runs the package's copy of the release's int8 model: it must be the same bytes."""
    from lenet_keras.runtime.tflite import BUNDLED_MODEL

    assert BUNDLED_MODEL.read_bytes() == (SHIPPED / "lenet5_int8.tflite").read_bytes(), (
        f"{BUNDLED_MODEL} is not saved_models/lenet5_int8.tflite; run `make bundle` to copy the release in."
    )


@pytest.mark.parametrize("variant", ["modern", "classic"])
def test_onnx_runtime_gives_what_the_serving_model_gives(variant, tmp_path, mnist):
    """The ONNX file, run by ONNX Runtime on raw pixels, against its oracle: the Keras serving model."""
    import keras
    import onnxruntime

    from lenet_keras import export
    from lenet_keras.model import ModelConfig, build_lenet5
    from lenet_keras.pipeline import onnx_outputs
    from lenet_keras.serving import make_serving_model

    keras.utils.set_random_seed(1)
    model = build_lenet5(ModelConfig(variant=variant))
    rng = np.random.default_rng(0)
    for weight in model.weights:  # away from the initial values (zero biases, unit coefficients)
        weight.assign(weight.numpy() + 0.1 * rng.normal(size=weight.shape).astype("float32"))
    path = export.export_onnx(model, tmp_path / export.ONNX)
    (inputs,) = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()
    assert inputs.name == "pixels" and inputs.type == "tensor(float)" and inputs.shape[1:] == [28, 28, 1]
    _, (x_test, _) = mnist
    pixels = x_test[:64, ..., None].astype(np.float32)
    expected = make_serving_model(model)(pixels).numpy()
    for batch in (64, 1, 7):  # dynamic batch
        np.testing.assert_allclose(onnx_outputs(path, pixels[:batch])[0], expected[:batch], atol=1e-5)


def test_classic_c3_table_converts_to_plain_builtin_ops(tmp_path, mnist):
    """The C3 table becomes a constant, zero-masked CONV_2D kernel: no grouped or custom op, and no gather but the
    one of each turned view (views.py)."""
    import keras

    from lenet_keras import export
    from lenet_keras.evaluate import predict_logits
    from lenet_keras.model import ModelConfig, build_lenet5
    from lenet_keras.runtime.tflite import TFLiteClassifier

    keras.utils.set_random_seed(0)
    model = build_lenet5(ModelConfig(variant="classic"))
    (x_train, _), (x_test, _) = mnist
    paths = export.export_all(model, tmp_path, calibration_images=x_train[:200])
    keras_probs = keras.ops.softmax(predict_logits(model, x_test[:100])).numpy()
    for name in ("float32", "int8"):
        runner = TFLiteClassifier(paths[name])
        names = [op["op_name"] for op in runner.interpreter._get_ops_details()]
        ops = set(names)
        assert "CONV_2D" in ops and not ops & {"GATHER_ND", "CUSTOM", "FLEX_DELEGATE"}, ops
        assert names.count("GATHER") == sum(degrees != 0 for _, degrees in VIEWS), names
        error = np.abs(runner.predict_proba(x_test[:100]) - keras_probs).max()
        assert error < (1e-4 if name == "float32" else 0.05), (name, error)


@pytest.mark.parametrize(
    "config",
    [{}, {"batch_norm": False}, {"variant": "classic"}, {"pooling": "average", "activation": "tanh"}],
    ids=["modern", "modern_plain", "classic", "avg"],
)
def test_serving_graph_equals_softmax_of_model_on_preprocessed_pixels(config, mnist):
    """The exported graph's block-rearranged C1/S2 computes exactly softmax(model(preprocess(pixels))) on one view,
    and on the image's views softmax of the mean of the model's logits over them (evaluate.predict_logits)."""
    import keras

    from lenet_keras.data import preprocess
    from lenet_keras.evaluate import predict_logits
    from lenet_keras.model import ModelConfig, build_lenet5
    from lenet_keras.serving import make_serving_model

    keras.utils.set_random_seed(1)
    model = build_lenet5(ModelConfig(**config))
    rng = np.random.default_rng(0)
    for weight in model.weights:  # move away from the initial values (zero biases, unit coefficients)
        weight.assign(weight.numpy() + 0.1 * rng.normal(size=weight.shape).astype("float32"))
    _, (x_test, _) = mnist
    pixels = x_test[:64, ..., None].astype("float32")
    expected = keras.ops.softmax(model(preprocess(x_test[:64]))).numpy()
    np.testing.assert_allclose(make_serving_model(model, views=ALONE)(pixels).numpy(), expected, atol=1e-5)
    viewed = keras.ops.softmax(predict_logits(model, x_test[:64])).numpy()
    np.testing.assert_allclose(make_serving_model(model)(pixels).numpy(), viewed, atol=1e-5)


def test_batch_norm_is_folded_away_at_export():
    import keras

    from lenet_keras.data import preprocess
    from lenet_keras.model import ModelConfig, build_lenet5
    from lenet_keras.serving import fold_batch_norm, make_serving_model

    keras.utils.set_random_seed(1)
    model = build_lenet5(ModelConfig(batch_norm=True))
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) <= 62_000
    rng = np.random.default_rng(0)
    for weight in model.non_trainable_weights + model.trainable_weights:  # statistics unlike a fresh model's
        if "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 2.0, weight.shape))
        elif any(part in weight.path for part in ("moving_mean", "gamma", "beta")):
            weight.assign(rng.normal(0.0, 0.5, weight.shape))
    folded = fold_batch_norm(model)
    plain = build_lenet5(ModelConfig(batch_norm=False))
    assert [layer.name for layer in folded.layers] == [layer.name for layer in plain.layers]
    pixels = rng.integers(0, 256, (32, 28, 28)).astype(np.uint8)
    expected = keras.ops.softmax(model(preprocess(pixels), training=False)).numpy()
    served = make_serving_model(model, views=ALONE)(pixels[..., None].astype(np.float32)).numpy()
    np.testing.assert_allclose(served, expected, atol=1e-5)
