"""The runtime part runs with TensorFlow and the rest of the training side made unimportable."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# Import names of the [train] extra's packages (and what they bring) that the runtime must never need.
TRAINING_SIDE = ("tensorflow", "keras", "tensorboard", "pandas", "matplotlib", "seaborn", "sklearn", "scipy",
                 "tf2onnx", "onnx", "onnxruntime", "jupyterlab", "ipykernel", "ipywidgets", "anywidget")  # fmt: skip

# Runs in a fresh interpreter: a meta path finder, first on sys.meta_path, refuses the training side as if it were
# not installed; then every runtime module is imported and the CLI runs, its answers printed as JSON.
PROBE = """
import contextlib, io, importlib, json, pkgutil, sys

BLOCKED = set(sys.argv[1].split(","))

class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Absent())
import lenet_keras, lenet_keras.cli, lenet_keras.quiet, lenet_keras.runtime
modules = [f"lenet_keras.runtime.{m.name}" for m in pkgutil.iter_modules(lenet_keras.runtime.__path__)]
for name in modules:
    importlib.import_module(name)
lenet_keras.TFLiteClassifier().predict_proba(lenet_keras.to_mnist(lenet_keras.load_image(sys.argv[2]))[None])

def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = lenet_keras.cli.main(list(args))
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}

result = {"modules": modules, "predict": cli("predict", *sys.argv[2:], "--json")}
for command in ("train", "evaluate", "export", "benchmark"):
    result[command] = cli(command, "--out", sys.argv[3] + "/out")
result["loaded"] = sorted({m.split(".")[0] for m in sys.modules} & BLOCKED)
print(json.dumps(result))
"""


def test_runtime_imports_and_predicts_without_the_training_side(mnist, tmp_path):
    _, (x_test, y_test) = mnist
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(255 - x_test[i]).resize((140, 140)).save(paths[-1])
    args = [sys.executable, "-c", PROBE, ",".join(TRAINING_SIDE), *map(str, paths)]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert {"lenet_keras.runtime.images", "lenet_keras.runtime.tflite"} <= set(probe["modules"])
    assert probe["loaded"] == []
    assert probe["predict"]["rc"] == 0, probe["predict"]["stderr"]
    answers = json.loads(probe["predict"]["stdout"])
    assert [a["digit"] for a in answers] == y_test[:3].tolist()  # the bundled model, no model named


def test_training_commands_without_tensorflow_say_how_to_install_it(tmp_path):
    """Each names the missing package and the install command in one line, exits 1, writes nothing."""
    image = tmp_path / "blank.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    args = [sys.executable, "-c", PROBE, ",".join(TRAINING_SIDE), str(image), str(tmp_path)]
    probe = json.loads(subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120).stdout)
    for command in ("train", "evaluate", "export", "benchmark"):
        run = probe[command]
        lines = run["stderr"].splitlines()
        assert run["rc"] == 1 and run["stdout"] == "" and len(lines) == 1, (command, run)
        assert lines[0] == (
            f"lenet-keras {command}: error: this command needs the training side and tensorflow is not installed; "
            'install it with pip install "lenet-keras[train]".'
        )
    assert not (tmp_path / "out").exists()
