"""One line per training epoch, appended to a file that `make run` shows while nbconvert runs notebook 02."""

import time
from pathlib import Path

import keras


def format_epoch(epoch, epochs, logs, seconds):
    """'epoch 3/30  loss 0.1234  accuracy 0.9612  val_accuracy 0.9780  3.4 s' from a Keras logs dict."""
    values = "  ".join(f"{name} {logs[name]:.4f}" for name in ("loss", "accuracy", "val_accuracy") if name in logs)
    return f"epoch {epoch}/{epochs}  {values}  {seconds:.1f} s"


class EpochLog(keras.callbacks.Callback):
    """Append `format_epoch`'s line to `path` at the end of every epoch, flushed, so another process can follow it."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        line = format_epoch(epoch + 1, self.params.get("epochs", "?"), logs or {}, time.perf_counter() - self._start)
        with open(self.path, "a") as f:
            f.write(line + "\n")
