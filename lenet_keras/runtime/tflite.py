"""Run an exported .tflite model without TensorFlow: numpy and ai_edge_litert only.

Exported models take raw pixels (batch, 28, 28, 1) in 0-255, as uint8 (int8 model) or
float32 (float model), and return probabilities (batch, 10).
"""

import os
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from lenet_keras.runtime.files import atomic_path
from lenet_keras.runtime.images import load_images

__all__ = ["BUNDLED_MODEL", "TFLiteClassifier"]

# The shipped int8 model, inside the package: the default of TFLiteClassifier and `lenet-keras predict`.
BUNDLED_MODEL = Path(__file__).with_name("lenet5_int8.tflite")

LOW_CONFIDENCE = 0.5  # a top probability below this is reported as a guess, not an answer
SHOW_ZOOM = 10  # --show writes the 28x28 image 280x280, each pixel a 10x10 block, so it can be looked at


def _read_model(path):
    """The file's bytes, refused before the interpreter sees them unless they look like a TFLite flatbuffer."""
    if not path.is_file():
        raise ValueError(f"{path}: not a readable TFLite model (no such file); check the path.")
    content = path.read_bytes()
    if len(content) == 0:
        raise ValueError(f"{path}: not a readable TFLite model (the file is empty); export the model again.")
    if content[4:8] != b"TFL3":  # the flatbuffer file identifier every .tflite file carries
        raise ValueError(
            f"{path}: not a readable TFLite model (no TFL3 identifier); pass a .tflite file from `lenet-keras export`."
        )
    return content


def _show_folder(folder):
    """The folder for --show images, created if missing; one sentence if it cannot be written to."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: not a folder; pass a folder to show images in (it is created if missing).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ValueError(f"{folder}: cannot create the folder ({reason}); pass a folder you can write to.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{folder}: the folder is not writable; pass a folder you can write to.")
    return folder


def _show_names(paths, folder):
    """A new file name in folder per input, from its name: digit.jpg -> digit.seen.png (digit-2.seen.png on a clash)."""
    taken = {Path(p).resolve() for p in paths}  # never overwrite an input, whatever it is called
    names = []
    for path in paths:
        stem, n = Path(path).stem, 1
        while (target := folder / f"{stem}{'' if n == 1 else f'-{n}'}.seen.png").resolve() in taken:
            n += 1
        taken.add(target.resolve())
        names.append(target)
    return names


def _write_shown(image, path):
    """The 28x28 image the model saw, enlarged with nearest-neighbour so its pixels stay whole, as a PNG."""
    big = np.kron(image, np.ones((SHOW_ZOOM, SHOW_ZOOM), np.uint8))
    with atomic_path(path) as tmp:
        Image.fromarray(big).save(tmp, format="PNG")


class TFLiteClassifier:
    """An exported digit classifier: raw pixels (N, 28, 28[, 1]) in, probabilities (N, 10) out."""

    def __init__(self, model_path=BUNDLED_MODEL, num_threads=1):
        path = Path(model_path)
        content = _read_model(path)
        try:
            self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
            self.interpreter.allocate_tensors()
            (inputs,), (outputs,) = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        except Exception as e:  # a truncated or corrupt flatbuffer, an unsupported op, several inputs
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"{path}: not a readable TFLite model ({reason}); export the model again.") from None
        if list(inputs["shape"][1:]) != [28, 28, 1] or list(outputs["shape"][1:]) != [10]:
            raise ValueError(
                f"{path}: not a readable TFLite model (input {inputs['shape_signature'].tolist()}, output "
                f"{outputs['shape_signature'].tolist()}; expected [-1, 28, 28, 1] and [-1, 10]); "
                "export the model again."
            )
        self.path = path
        self.input_dtype = np.dtype(inputs["dtype"])
        self._input, self._output = inputs["index"], outputs["index"]
        self._input_quantization = inputs["quantization"]  # (scale, zero point); (0.0, 0) for float inputs
        self._output_quantization = outputs["quantization"]
        self._output_quantized = np.dtype(outputs["dtype"]).kind in "iu"
        self._batch = int(inputs["shape"][0])

    def _to_input(self, x):
        """Raw pixels -> the model's input dtype: a cast, or q = round(x / scale) + zero point when calibrated so."""
        if self.input_dtype.kind in "iu" and (x.dtype != self.input_dtype or self._input_quantization != (1.0, 0)):
            scale, zero_point = self._input_quantization
            info = np.iinfo(self.input_dtype)
            x = np.clip(np.round(x / (scale or 1.0)) + zero_point, info.min, info.max)
        return x.astype(self.input_dtype, copy=False)  # no copy when the pixels already have the model's dtype

    def predict_proba(self, images):
        """Raw 0-255 pixels (N, 28, 28) or (N, 28, 28, 1) -> float32 probabilities (N, 10)."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[..., np.newaxis]  # a view, not a copy
        if x.shape[1:] != (28, 28, 1):
            raise ValueError(f"images of shape {x.shape}: expected (N, 28, 28) or (N, 28, 28, 1) raw pixels.")
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        if len(x) != self._batch:  # the batch dimension is dynamic; reallocate only when it changes
            self.interpreter.resize_tensor_input(self._input, x.shape)
            self.interpreter.allocate_tensors()
            self._batch = len(x)
        self.interpreter.set_tensor(self._input, self._to_input(x))
        self.interpreter.invoke()
        probabilities = self.interpreter.get_tensor(self._output)
        if self._output_quantized:
            scale, zero_point = self._output_quantization
            probabilities = (probabilities.astype(np.float32) - zero_point) * np.float32(scale)
        return probabilities

    def predict(self, images):
        """Raw pixels -> (labels (N,), probabilities (N, 10))."""
        probabilities = self.predict_proba(images)
        return probabilities.argmax(axis=1), probabilities

    def predict_files(self, paths, top=1, show_dir=None):
        """Classify image files; one dict per file, with the `top` likeliest digits and a low-confidence flag.

        With show_dir, also write each 28x28 image the model saw into that folder, enlarged, and name the file
        in the result's "shown".
        """
        if not 1 <= top <= 10:
            raise ValueError(f"top={top}: ask for between 1 and 10 digits.")
        paths = list(paths)
        folder = None if show_dir is None else _show_folder(show_dir)  # before any work, so a bad folder fails fast
        images = load_images(paths)
        shown = [None] * len(paths) if folder is None else _show_names(paths, folder)
        results = []
        for path, image, p, seen in zip(paths, images, self.predict_proba(images), shown, strict=True):
            order = np.argsort(p)[::-1][:top]
            results.append(
                {
                    "file": str(path),
                    "digit": int(order[0]),
                    "probability": float(p[order[0]]),
                    "top": [{"digit": int(d), "probability": float(p[d])} for d in order],
                    # A blank image has no digit to find; the argmax is reported but is only a guess.
                    "low_confidence": bool(p[order[0]] < LOW_CONFIDENCE or not image.any()),
                }
            )
            if seen is not None:
                _write_shown(image, seen)
                results[-1]["shown"] = str(seen)
        return results
