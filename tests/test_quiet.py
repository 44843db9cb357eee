"""TensorFlow's C++ chatter on fd 2 is dropped, in the CLI and in notebook kernels; Python's warnings are not."""

import subprocess
import sys

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from lenet_keras.quiet import NATIVE_LOG_PATTERNS


def test_native_stderr_hidden_drops_fd2_and_keeps_sys_stderr():
    code = (
        "import os, sys\n"
        "from lenet_keras.quiet import native_stderr_hidden\n"
        "with native_stderr_hidden():\n"
        "    os.write(2, b'I0000 native chatter\\n')\n"
        "    print('a Python error', file=sys.stderr)\n"
        "os.write(2, b'after\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert result.stderr == "a Python error\nafter\n"


def _env(**extra):
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, **extra}


def test_a_kernel_that_imports_lenet_keras_shows_python_warnings_and_no_tensorflow_chatter():
    # Without lenet_keras imported first, this notebook shows absl's, oneDNN's and CUDA's lines from fd 2.
    nb = new_notebook(
        cells=[
            new_code_cell("import warnings\nimport lenet_keras"),
            new_code_cell("import tensorflow as tf\nfloat(tf.constant(1.0) + 1)"),
            new_code_cell("warnings.warn('a Python warning')"),
        ]
    )
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    text = "".join(o.get("text", "") for cell in nb.cells for o in cell.outputs)
    assert "UserWarning: a Python warning" in text
    assert not [line for line in text.splitlines() if any(p in line for p in NATIVE_LOG_PATTERNS)], text
