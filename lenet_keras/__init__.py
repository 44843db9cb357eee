"""LeNet-5 on MNIST with Keras 3 and TensorFlow.

The public API is re-exported lazily, so `import lenet_keras.runtime` (running an
exported model) never imports TensorFlow.
"""

import importlib
import os

# Quiets TensorFlow's C++ warnings; set TF_CPP_MIN_LOG_LEVEL=0 to see them. (TF 2.21 still prints a few
# start-up lines, about oneDNN and CUDA, whatever this says: tensorflow/tensorflow#100442.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lenet_keras.quiet import quiet_kernel  # noqa: E402

# In a notebook, fd 2's C++ lines would show as red stderr blocks; this runs before TensorFlow is imported.
quiet_kernel()

__version__ = "1.2.0"

_EXPORTS = {
    "load_mnist": "lenet_keras.idx",
    "read_idx": "lenet_keras.idx",
    "write_idx": "lenet_keras.idx",
    "preprocess": "lenet_keras.data",
    "make_datasets": "lenet_keras.data",
    "DataConfig": "lenet_keras.data",
    "build_lenet5": "lenet_keras.model",
    "ModelConfig": "lenet_keras.model",
    "train": "lenet_keras.train",
    "recipe": "lenet_keras.train",
    "TrainConfig": "lenet_keras.train",
    "evaluate": "lenet_keras.evaluate",
    "load_model": "lenet_keras.evaluate",
    "export_all": "lenet_keras.export",
    "TFLiteClassifier": "lenet_keras.runtime.tflite",
    "to_mnist": "lenet_keras.runtime.images",
    "load_image": "lenet_keras.runtime.images",
    "train_and_report": "lenet_keras.pipeline",
    "evaluate_and_report": "lenet_keras.pipeline",
    "export_and_check": "lenet_keras.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lenet_keras' has no attribute {name!r}")
