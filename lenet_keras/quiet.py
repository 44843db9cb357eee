"""Keep the C++ start-up chatter of TensorFlow and LiteRT out of terminals and notebooks.

TensorFlow 2.21 writes absl's "All log messages before absl::InitializeLog()", the oneDNN and
CUDA notes and the like straight to file descriptor 2, where TF_CPP_MIN_LOG_LEVEL no longer
reaches (tensorflow/tensorflow#100442). Python's warnings and errors go through `sys.stderr`,
which stays visible. TF_CPP_MIN_LOG_LEVEL=0 keeps everything.
"""

import contextlib
import os
import sys

# What TensorFlow prints to fd 2 on this project's paths; the notebook tests look for these lines.
NATIVE_LOG_PATTERNS = (
    "absl::InitializeLog",
    "oneDNN custom operations",
    "cuda drivers",
    "cuInit",
    "TF-TRT",
    "computation placer",
    "Unable to register cu",
    "E0000",
    "W0000",
    "I0000",
)

_kernel_quieted = False


def keep_native_logs():
    """True when the user asked to see TensorFlow's C++ logs (TF_CPP_MIN_LOG_LEVEL=0)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"


def silence_native_stderr():
    """Point file descriptor 2 at /dev/null; return a duplicate of where it pointed before."""
    previous = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    return previous


@contextlib.contextmanager
def native_stderr_hidden():
    """Drop what C++ libraries write to fd 2 for the duration, while Python's sys.stderr still reaches
    the terminal, so errors and warnings stay visible."""
    if keep_native_logs():
        yield
        return
    sys.stderr.flush()
    terminal = silence_native_stderr()
    python_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(terminal), "w", buffering=1)
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr = python_stderr
        os.dup2(terminal, 2)
        os.close(terminal)


def in_jupyter_kernel():
    """True inside an IPython kernel, whose sys.stderr is a stream to the notebook rather than fd 2."""
    return "ipykernel" in sys.modules and type(sys.stderr).__module__.startswith("ipykernel")


def quiet_kernel():
    """In a Jupyter kernel, drop fd-2 output for the kernel's life; return whether it did.

    ipykernel copies fd 2 into the notebook as red stderr blocks. Python's warnings reach the
    notebook through sys.stderr, which does not use fd 2, so they still show.
    """
    global _kernel_quieted
    if _kernel_quieted or keep_native_logs() or not in_jupyter_kernel():
        return _kernel_quieted
    os.close(silence_native_stderr())
    _kernel_quieted = True
    return True
