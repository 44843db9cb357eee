"""The project's three jobs end to end, shared by the CLI and the notebooks.

Each function reads its inputs from files, writes its outputs next to the model
and returns what it wrote, so notebooks 02-04 can each run on their own.
"""

import hashlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lenet_keras import evaluate as ev
from lenet_keras import plots
from lenet_keras.calibrate import calibrate
from lenet_keras.data import split_validation
from lenet_keras.detector import DETECTOR_NAME, fit_detector
from lenet_keras.idx import load_mnist
from lenet_keras.locks import hold_folder
from lenet_keras.negatives import make_negatives
from lenet_keras.progress import EpochLog
from lenet_keras.runs import HISTORY
from lenet_keras.runtime.files import atomic_path
from lenet_keras.train import MODEL_NAME, train

CALIBRATION_NEGATIVES = 1000  # of the 10,000 images the int8 conversion's 500 calibration images are drawn from


def _save(fig, path):
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return Path(path)


def make_strategy(name):
    """None for "default" (one device), MirroredStrategy (every local GPU) for "mirrored";
    a tf.distribute.Strategy passes through."""
    if name in (None, "default"):
        return None
    if not isinstance(name, str):
        return name
    if name == "mirrored":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; choose default or mirrored.")


def train_and_report(config, data_dir=None, strategy=None, restart=False, progress=None):
    """Train, plot the curves, evaluate the best model; return paths, history and metrics.

    restart=True discards an unfinished run in config.out_dir instead of resuming it.
    `progress`: a file to append one line per epoch to (what `make run` shows in the terminal).
    """
    out = Path(config.out_dir)
    progress_log = [EpochLog(progress)] if progress else []
    with hold_folder(out):
        mnist = load_mnist(data_dir)
        train(config, mnist=mnist, strategy=make_strategy(strategy), restart=restart, extra_callbacks=progress_log)
        history = pd.read_csv(out / HISTORY)  # the whole run, including epochs before a resume
        curves = _save(plots.plot_history(history), out / "training_curves.png")
        metrics = evaluate_and_report(out / MODEL_NAME, mnist=mnist, out_dir=out, recipe=config.to_dict())
    return {"model_path": out / MODEL_NAME, "curves": curves, "history": history, "metrics": metrics}


def evaluate_and_report(model_path, data_dir=None, out_dir=None, mnist=None, recipe=None):
    """Evaluate a saved model on the test set; write metrics.json and the figures beside it."""
    model_path = Path(model_path)
    out = Path(out_dir) if out_dir else model_path.parent
    with hold_folder(out):
        return _evaluate_and_report(model_path, out, data_dir, mnist, recipe)


def _evaluate_and_report(model_path, out, data_dir, mnist, recipe):
    model = ev.load_model(model_path)
    mnist = mnist if mnist is not None else load_mnist(data_dir)
    metrics, y_pred = ev.evaluate(model, mnist)
    _, (x_test, y_test) = mnist
    wrong = (y_pred != y_test).nonzero()[0]
    metrics["mistakes"] = [{"index": int(i), "true": int(y_test[i]), "predicted": int(y_pred[i])} for i in wrong]
    _save(plots.plot_confusion(metrics["confusion_matrix"]), out / "confusion_matrix.png")
    shown = wrong[:40]
    _save(plots.plot_digits(x_test[shown], y_test[shown], y_pred[shown], title="Misclassified"), out / "mistakes.png")
    # Trainable parameters: batch normalization's moving statistics are folded away at export.
    parameters = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    metrics["model"] = {"variant": model.name.removeprefix("lenet5_"), "parameters": parameters}
    if recipe is None and (out / "metrics.json").is_file():
        recipe = ev.read_json(out / "metrics.json").get("recipe")
    if recipe is not None:
        metrics["recipe"] = recipe
    train, (x_val, y_val) = _splits(mnist, recipe)
    previous = ev.read_json(out / "metrics.json").get("refusal", {}) if (out / "metrics.json").is_file() else {}
    metrics["refusal"] = {  # what the exports carry: the temperature, and the rule for "not a digit"
        **calibrate(ev.predict_logits(model, x_val), y_val),
        **_not_a_digit(model, model_path, out, train, (x_val, y_val), previous),
    }
    ev.write_json(metrics, out / "metrics.json")
    return metrics


def _not_a_digit(model, model_path, out, train, val, previous):
    """Fit the not-a-digit head (detector.py) and write it beside the model; return what metrics.json records of it.

    A head already there for the same model file (its SHA-256 in `previous`, metrics.json's record) is kept:
    notebook 03 evaluates again the model notebook 02 trained and evaluated, and the fit takes a minute."""
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    if (out / DETECTOR_NAME).is_file() and previous.get("model_sha256") == digest:
        return {k: previous[k] for k in ("detector", "threshold", "refused", "digits", "negatives", "model_sha256")}
    detector = fit_detector(model, train, val)
    with atomic_path(out / DETECTOR_NAME) as tmp:  # the head, its threshold folded in
        detector["head"].save(tmp)
    fields = ("threshold", "refused", "digits", "negatives")
    return {"detector": DETECTOR_NAME, **{k: detector[k] for k in fields}, "model_sha256": digest}


def _splits(mnist, recipe):
    """The recipe's training and validation splits of MNIST's training set, the training split cut to the recipe's
    `limit` (the digits its model learned from): ((x, y), (x, y))."""
    (x_train, y_train), _ = mnist
    data = (recipe or {}).get("data", {})
    (x, y), val = split_validation(x_train, y_train, data.get("validation_size", 5000), data.get("seed", 0))
    limit = data.get("limit")
    return ((x[:limit], y[:limit]) if limit else (x, y)), val


def _detector_head(model, model_path, mnist, recipe):
    """The not-a-digit head beside the model (detector.py), or one fitted now on the recipe's splits."""
    import keras

    path = model_path.parent / DETECTOR_NAME
    if path.is_file():
        return keras.saving.load_model(path)
    return fit_detector(model, *_splits(mnist, recipe))["head"]


def _agreement_row(name, path, outputs, y_test, keras_pred):
    probabilities, margin = outputs
    pred = probabilities.argmax(axis=1)
    return {
        "format": name,
        "test_accuracy": float((pred == y_test).mean()),
        "agreement_with_keras": float((pred == keras_pred).mean()),
        # Test digits the export calls "not a digit" (digit_margin < 0); None where it has no such output.
        "refused_digits": None if margin is None else float((margin < 0).mean()),
        "size_bytes": _size(path),
    }


def _size(path):
    path = Path(path)
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def format_parity(rows):
    """The parity report as a fixed-width text table."""
    lines = [f"{'format':<16}{'test accuracy':>15}{'agrees w/ Keras':>17}{'refused digits':>16}{'size (KB)':>12}"]
    for r in rows:
        accuracy, agreement, kilobytes = r["test_accuracy"], r["agreement_with_keras"], r["size_bytes"] / 1000
        refused = "-" if r.get("refused_digits") is None else f"{r['refused_digits']:.2%}"
        lines.append(f"{r['format']:<16}{accuracy:>15.4%}{agreement:>17.4%}{refused:>16}{kilobytes:>12.1f}")
    return "\n".join(lines)


def split_outputs(outputs):
    """An exported model's outputs, in any order -> (probabilities (N, 10), digit_margin (N,) or None)."""
    outputs = [np.asarray(o) for o in outputs]
    probabilities = next(o for o in outputs if o.shape[-1] == 10)
    margin = next((o[:, 0] for o in outputs if o.shape[-1] == 1), None)
    return probabilities, margin


def onnx_outputs(path, pixels, threads=2):
    """(probabilities (N, 10), digit_margin (N,) or None) from an ONNX file run by ONNX Runtime on raw pixels."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return split_outputs(session.run(None, {session.get_inputs()[0].name: pixels.astype(np.float32)}))


def export_and_check(model_path, data_dir=None, out_dir=None, mnist=None):
    """Export SavedModel, float32/int8 TFLite and ONNX beside the model, then measure parity on the full test set.

    Writes parity.json; returns {"paths", "rows", "table"}.
    """
    model_path = Path(model_path)
    out = Path(out_dir) if out_dir else model_path.parent
    with hold_folder(out):
        return _export_and_check(model_path, out, data_dir, mnist)


def _export_and_check(model_path, out, data_dir, mnist):
    import tensorflow as tf

    from lenet_keras.export import export_all
    from lenet_keras.runtime.tflite import TFLiteClassifier

    model = ev.load_model(model_path)
    mnist = mnist if mnist is not None else load_mnist(data_dir)
    (x_train, _), (x_test, y_test) = mnist
    # The calibration belongs to the model: its temperature is read from the metrics.json beside the model file,
    # the not-a-digit head from the file beside it (fitted again on the same splits where an older run has none).
    beside = model_path.parent / "metrics.json"
    metrics = ev.read_json(beside) if beside.is_file() else {}
    refusal, calibration_images = None, x_train
    if "refusal" in metrics:
        head = _detector_head(model, model_path, mnist, metrics.get("recipe"))
        refusal = {"temperature": metrics["refusal"]["temperature"], "head": head}
        # int8's ranges must cover what the head sees in non-digits too, or it saturates on them.
        others, _ = make_negatives(CALIBRATION_NEGATIVES, seed=1)
        calibration_images = np.concatenate([x_train[: 9 * CALIBRATION_NEGATIVES], others])
    paths = export_all(model, out, calibration_images=calibration_images, refusal=refusal)

    keras_pred = ev.predict_logits(model, x_test).argmax(axis=1)
    pixels = x_test[..., None]  # (N, 28, 28, 1) raw 0-255, the exported models' input
    serve = tf.saved_model.load(str(paths["saved_model"])).signatures["serve"]
    saved = split_outputs([t.numpy() for t in serve(tf.constant(pixels, tf.float32)).values()])
    rows = [
        _agreement_row("keras", model_path, (np.eye(10)[keras_pred], None), y_test, keras_pred),
        _agreement_row("savedmodel", paths["saved_model"], saved, y_test, keras_pred),
    ]
    for name in ("float32", "int8"):
        classifier = TFLiteClassifier(paths[name], num_threads=2)
        outputs = classifier.predict_proba(pixels), classifier.digit_margin(pixels)
        rows.append(_agreement_row(f"tflite_{name}", paths[name], outputs, y_test, keras_pred))
    rows.append(_agreement_row("onnx", paths["onnx"], onnx_outputs(paths["onnx"], pixels), y_test, keras_pred))
    ev.write_json({"rows": rows}, out / "parity.json")
    return {"paths": paths, "rows": rows, "table": format_parity(rows)}
