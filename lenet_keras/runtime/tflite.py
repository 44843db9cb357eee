"""Run an exported .tflite model without TensorFlow: numpy and ai_edge_litert only.

Exported models take raw pixels (batch, 28, 28, 1) in 0-255, as uint8 (int8 model) or
float32 (float model), and return probabilities (batch, 10) and, since 1.2, digit_margin
(batch, 1): negative when the image is not a digit.
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

LOW_CONFIDENCE = 0.5  # for a model without digit_margin: a top probability below this is "not a digit"
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
            (inputs,), outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        except Exception as e:  # a truncated or corrupt flatbuffer, an unsupported op, several inputs
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"{path}: not a readable TFLite model ({reason}); export the model again.") from None
        by_width = {int(o["shape"][-1]): o for o in outputs if len(o["shape"]) == 2}
        if list(inputs["shape"][1:]) != [28, 28, 1] or 10 not in by_width or len(outputs) != len(by_width):
            shapes = ", ".join(str(o["shape_signature"].tolist()) for o in outputs)
            raise ValueError(
                f"{path}: not a readable TFLite model (input {inputs['shape_signature'].tolist()}, output {shapes}; "
                "expected [-1, 28, 28, 1] and [-1, 10]); export the model again."
            )
        self.path = path
        self.input_dtype = np.dtype(inputs["dtype"])
        self._input = inputs["index"]
        self._input_quantization = inputs["quantization"]  # (scale, zero point); (0.0, 0) for float inputs
        self._outputs = {"probabilities": by_width[10], "digit_margin": by_width.get(1)}
        self._batch = int(inputs["shape"][0])
        # An export with a calibration says itself when an image is not a digit (serving.py's digit_margin);
        # for one without, the top probability must reach LOW_CONFIDENCE.
        self.knows_non_digits = by_width.get(1) is not None

    def _to_input(self, x):
        """Raw pixels -> the model's input dtype: a cast, or q = round(x / scale) + zero point when calibrated so."""
        if self.input_dtype.kind in "iu" and (x.dtype != self.input_dtype or self._input_quantization != (1.0, 0)):
            scale, zero_point = self._input_quantization
            info = np.iinfo(self.input_dtype)
            x = np.clip(np.round(x / (scale or 1.0)) + zero_point, info.min, info.max)
        return x.astype(self.input_dtype, copy=False)  # no copy when the pixels already have the model's dtype

    def _run(self, images):
        """Raw pixels -> {"probabilities": (N, 10), "digit_margin": (N,)}, float32."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[..., np.newaxis]  # a view, not a copy
        if x.shape[1:] != (28, 28, 1):
            raise ValueError(f"images of shape {x.shape}: expected (N, 28, 28) or (N, 28, 28, 1) raw pixels.")
        if len(x) == 0:
            return {"probabilities": np.zeros((0, 10), np.float32), "digit_margin": np.zeros(0, np.float32)}
        if len(x) != self._batch:  # the batch dimension is dynamic; reallocate only when it changes
            self.interpreter.resize_tensor_input(self._input, x.shape)
            self.interpreter.allocate_tensors()
            self._batch = len(x)
        self.interpreter.set_tensor(self._input, self._to_input(x))
        self.interpreter.invoke()
        result = {name: self._read(details) for name, details in self._outputs.items() if details is not None}
        if "digit_margin" in result:
            result["digit_margin"] = result["digit_margin"][:, 0]
        else:
            result["digit_margin"] = result["probabilities"].max(axis=1) - LOW_CONFIDENCE
        return result

    def _read(self, details):
        value = self.interpreter.get_tensor(details["index"])
        if np.dtype(details["dtype"]).kind in "iu":
            scale, zero_point = details["quantization"]
            value = (value.astype(np.float32) - zero_point) * np.float32(scale)
        return value

    def predict_proba(self, images):
        """Raw 0-255 pixels (N, 28, 28) or (N, 28, 28, 1) -> float32 probabilities (N, 10)."""
        return self._run(images)["probabilities"]

    def digit_margin(self, images):
        """Raw pixels -> (N,): the export's digit_margin (serving.DigitMargin; for a release 1.1 file, the top
        probability less LOW_CONFIDENCE); negative: not a digit."""
        return self._run(images)["digit_margin"]

    def predict(self, images):
        """Raw pixels -> (labels (N,), probabilities (N, 10))."""
        probabilities = self.predict_proba(images)
        return probabilities.argmax(axis=1), probabilities

    def classify(self, images, top=1):
        """Raw pixels -> one verdict per image: {"digit", "probability", "reason", "top"}.

        "digit" is None when the image is not a digit: "reason" is then "no digit found" (no ink: the image
        is all zeros) or "not a digit" (the model's digit_margin is negative); "top" lists the `top`
        likeliest digits either way.
        """
        if not 1 <= top <= 10:
            raise ValueError(f"top={top}: ask for between 1 and 10 digits.")
        images = np.asarray(images)
        outputs = self._run(images)
        verdicts = []
        for image, p, margin in zip(images, outputs["probabilities"], outputs["digit_margin"], strict=True):
            order = np.argsort(p)[::-1][:top]
            reason = "no digit found" if not image.any() else "not a digit" if margin < 0 else None
            verdicts.append(
                {
                    "digit": None if reason else int(order[0]),
                    "probability": None if reason else float(p[order[0]]),
                    "reason": reason,
                    "top": [{"digit": int(d), "probability": float(p[d])} for d in order],
                }
            )
        return verdicts

    def predict_files(self, paths, top=1, show_dir=None):
        """Classify image files: classify()'s verdict per file, with "file" (and "shown" with show_dir).

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
        for path, image, verdict, seen in zip(paths, images, self.classify(images, top), shown, strict=True):
            results.append({"file": str(path), **verdict})
            if seen is not None:
                _write_shown(image, seen)
                results[-1]["shown"] = str(seen)
        return results
