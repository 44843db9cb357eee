"""Export a trained model as a SavedModel, float32 and int8 TFLite files, and an ONNX file.

Every exported model takes raw pixels (batch, 28, 28, 1) in 0-255 and returns class
probabilities (batch, 10): the shared `preprocess` and a softmax are baked into the graph
(see serving.py).
"""

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from lenet_keras.runtime.files import naming_full_disk
from lenet_keras.serving import make_serving_model

SAVED_MODEL = "lenet5_savedmodel"
TFLITE_FLOAT = "lenet5_float32.tflite"
TFLITE_INT8 = "lenet5_int8.tflite"
ONNX = "lenet5.onnx"


def export_saved_model(model, path, refusal=None):
    """Write a TensorFlow SavedModel with a `serve` signature over the serving model (see make_serving_model)."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # verbose=False still leaves TensorFlow's "INFO: Assets written to ..." line
    try:
        make_serving_model(model, refusal).export(str(path), format="tf_saved_model", verbose=False)
    finally:
        logger.setLevel(level)
    return Path(path)


def export_onnx(model, path, refusal=None):
    """Write the serving model as ONNX through Keras's exporter (tf2onnx): input "pixels", probabilities out."""
    pixels = tf.TensorSpec((None, 28, 28, 1), tf.float32, name="pixels")  # the serving model was never called
    with warnings.catch_warnings():
        # Keras's numpy-2 patch of tf2onnx reads np.object, which numpy answers with a FutureWarning.
        warnings.filterwarnings("ignore", message=".*np.object", category=FutureWarning)
        make_serving_model(model, refusal).export(str(path), format="onnx", verbose=False, input_signature=[pixels])
    return Path(path)


def representative_images(images, count=500, seed=0):
    """Yield single raw training images as float32 (1, 28, 28, 1) for int8 calibration."""
    order = np.random.default_rng(seed).choice(len(images), size=min(count, len(images)), replace=False)
    for i in order:
        yield [images[i][np.newaxis, ..., np.newaxis].astype(np.float32)]


def convert_tflite(saved_model_dir, calibration_images=None):
    """Convert a SavedModel to TFLite bytes: float32, or full-integer int8 when calibration images are given."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    if calibration_images is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: representative_images(calibration_images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8  # raw pixels: calibrated to scale 1, zero point 0
        converter.inference_output_type = tf.float32  # probabilities, dequantised in the graph
        # One scale per tensor instead of per channel keeps LeNet-5's part of the file under 70 KB: per-channel
        # scales and zero points added about 5 KB. Accuracy did not suffer (a 20-epoch model: 99.25% per channel,
        # 99.27% per tensor; the shipped model: 99.36%, equal to float32).
        converter._experimental_disable_per_channel = True
    return converter.convert()


def _move_into_place(staging, out_dir, names):
    """Move finished artifacts from staging into out_dir, replacing old ones only at the very end."""
    for name in names:
        src, dst = staging / name, out_dir / name
        if src.is_dir():
            old = staging / f"{name}.old"
            if dst.exists():
                os.replace(dst, old)
            os.replace(src, dst)
        else:
            os.replace(src, dst)


def export_all(model, out_dir, calibration_images, refusal=None):
    """Write the SavedModel, both TFLite files and the ONNX file into out_dir atomically; return their paths.

    calibration_images: raw training images for int8 quantization. refusal: {"temperature" (calibrate.py),
    "head" (detector.fit_detector)}, which every export then carries as its temperature and its
    digit_margin output.
    Nothing in out_dir changes until all four are written, so a failure (a full disk) keeps the old ones.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    try:
        with naming_full_disk(out_dir / SAVED_MODEL):
            saved = export_saved_model(model, staging / SAVED_MODEL, refusal)
        for name, calibration in [(TFLITE_FLOAT, None), (TFLITE_INT8, calibration_images)]:
            with naming_full_disk(out_dir / name):
                (staging / name).write_bytes(convert_tflite(saved, calibration))
        with naming_full_disk(out_dir / ONNX):
            export_onnx(model, staging / ONNX, refusal)
        _move_into_place(staging, out_dir, [TFLITE_FLOAT, TFLITE_INT8, ONNX, SAVED_MODEL])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "saved_model": out_dir / SAVED_MODEL,
        "float32": out_dir / TFLITE_FLOAT,
        "int8": out_dir / TFLITE_INT8,
        "onnx": out_dir / ONNX,
    }
