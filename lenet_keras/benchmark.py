"""The benchmark: training throughput, time to 99% test accuracy, TFLite latency, predict's cold start.

Run it with `lenet-keras benchmark` (or `make benchmark`) and the PyTorch peer beside it in the
same session; compare ratios, since absolute times drift on shared machines.
"""

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from lenet_keras.data import make_datasets
from lenet_keras.evaluate import predict_logits, write_json
from lenet_keras.idx import load_mnist
from lenet_keras.model import build_lenet5
from lenet_keras.train import TrainConfig, compile_model, train


class EpochTimer(keras.callbacks.Callback):
    """Per epoch: `seconds` of training steps only, and `wall` seconds including validation and checkpointing."""

    def __init__(self):
        super().__init__()
        self.seconds, self.wall = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self._last - self._start)
        self.wall.append(time.perf_counter() - self._start)


class TestAccuracyClock(keras.callbacks.Callback):
    """After each epoch, the test accuracy and the training wall time so far (this test evaluation excluded)."""

    def __init__(self, test_set, timer):
        super().__init__()
        self.test_set, self.timer, self.points = test_set, timer, []

    def on_epoch_end(self, epoch, logs=None):
        accuracy = measure_test_accuracy(self.model, self.test_set)
        self.points.append(
            {"epoch": epoch + 1, "train_seconds": round(sum(self.timer.wall), 2), "test_accuracy": accuracy}
        )


def training_throughput(mnist, variant, augment, config, epochs=3):
    """Steady-state training images per second: epochs after the first (tracing, warm-up) only."""
    data = replace(config.data, augment=augment)
    train_ds, _, _ = make_datasets(data, mnist)
    keras.utils.set_random_seed(0)
    model = compile_model(build_lenet5(replace(config.model, variant=variant)), config, int(train_ds.cardinality()))
    timer = EpochTimer()
    model.fit(train_ds, epochs=epochs, callbacks=[timer], verbose=0, shuffle=False)
    images = len(mnist[0][0]) - data.validation_size if data.limit is None else data.limit
    steady = statistics.median(timer.seconds[1:])
    return {"seconds_per_epoch": round(steady, 2), "train_images_per_second": round(images / steady, 1)}


def measure_test_accuracy(model, test_set):
    """Accuracy on raw test images (x, y), through the same preprocessing as `lenet-keras evaluate`."""
    x_test, y_test = test_set
    return float((predict_logits(model, x_test).argmax(axis=1) == y_test).mean())


def time_to_accuracy(mnist, config, target=0.99):
    """Train the recipe, timing training epochs (validation included, test evaluation not); return when test
    accuracy first reached `target`, and where it ended."""
    timer = EpochTimer()
    clock = TestAccuracyClock(mnist[1], timer)
    model, _ = train(config, mnist=mnist, extra_callbacks=[timer, clock], verbose=0)
    reached = next((p for p in clock.points if p["test_accuracy"] >= target), None)
    return model, {
        "target": target,
        "reached_at_epoch": reached and reached["epoch"],
        "train_seconds_to_target": reached and reached["train_seconds"],
        "train_seconds_total": round(sum(timer.wall), 2),
        "final_test_accuracy": measure_test_accuracy(model, mnist[1]),
        "curve": clock.points,
    }


def tflite_latency(path, images, threads, batch, min_seconds=1.0):
    """Microseconds per image for one model, batch size and thread count (best of 5 timed rounds)."""
    from lenet_keras.runtime.tflite import TFLiteClassifier

    model = TFLiteClassifier(path, num_threads=threads)
    x = np.ascontiguousarray(images[:batch][..., None].astype(model.input_dtype))
    model.predict_proba(x)
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < min_seconds / 5:  # size the rounds to about min_seconds in all
        model.predict_proba(x)
        calls += 1
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            model.predict_proba(x)
        best = min(best, (time.perf_counter() - start) / calls / batch)
    return round(best * 1e6, 2)


def predict_cold_start(model_path, image_path, repeats=3):
    """Wall seconds of a fresh `python -m lenet_keras predict` process (best of `repeats`)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lenet_keras", "predict", str(model_path), str(image_path)],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return round(min(times), 3)


def run_benchmark(out_dir="build/benchmark", data_dir=None, quick=False):
    """Run every measurement and return one JSON-ready dict."""
    import tensorflow as tf
    from PIL import Image

    from lenet_keras.export import export_all

    tf.get_logger().setLevel("ERROR")  # each throughput run builds a new model: retracing is expected
    out = Path(out_dir)
    mnist = load_mnist(data_dir)
    (x_train, _), (x_test, _) = mnist
    config = TrainConfig(out_dir=str(out / "model"))
    if quick:
        config = replace(config, epochs=2, data=replace(config.data, limit=2000))
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "tensorflow": __import__("tensorflow").__version__,
        },
        "training": {},
    }
    throughput_data = replace(config.data, limit=2000) if quick else config.data
    for variant in ("modern", "classic"):
        for augment in (False, True):
            key = f"{variant}{'_augmented' if augment else ''}"
            result["training"][key] = training_throughput(
                mnist, variant, augment, replace(config, data=throughput_data), epochs=2 if quick else 3
            )
    model, result["time_to_accuracy"] = time_to_accuracy(mnist, config)
    paths = export_all(model, out / "export", calibration_images=x_train)
    result["tflite_us_per_image"] = {
        f"{name}_batch{batch}_threads{threads}": tflite_latency(
            paths[name], x_test, threads, batch, 0.2 if quick else 2
        )
        for name in ("float32", "int8")
        for batch in (1, 256)
        for threads in (1, 2)
    }
    result["tflite_bytes"] = {name: paths[name].stat().st_size for name in ("float32", "int8")}
    digit = out / "digit.png"
    Image.fromarray(255 - x_test[0]).resize((280, 280)).save(digit)
    result["predict_cold_start_seconds"] = predict_cold_start(paths["int8"], digit, repeats=1 if quick else 3)
    write_json(result, out / "benchmark.json")
    return result
