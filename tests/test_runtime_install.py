"""The base install as a user gets it: the wheel alone in a fresh venv, its dependencies from PyPI, no TensorFlow.

Slow (about a minute: a wheel build, a venv, numpy, Pillow and LiteRT downloaded), so marked `install`;
`make test` runs it, `pytest -m "not install"` leaves it out.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[1]
RELEASE_INT8 = ROOT / "saved_models" / "lenet5_int8.tflite"
WHEEL_LIMIT = 1_000_000  # bytes
VENV_LIMIT = 250_000_000  # bytes, the whole venv: Python's own pip included
ALONE = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv sees its own packages only


def _run(command, cwd=None):
    result = subprocess.run(list(map(str, command)), cwd=cwd, env=ALONE, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """The wheel built from a copy of the sources, and a fresh venv with that wheel and its dependencies only."""
    root = tmp_path_factory.mktemp("runtime")
    source = root / "source"  # a copy, so the build leaves no build/ or egg-info in the checkout
    shutil.copytree(ROOT / "lenet_keras", source / "lenet_keras", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # The dev venv already has setuptools (TensorFlow needs it): no isolated build environment to download.
    _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--no-build-isolation", "-w", root / "dist"])
    (wheel,) = (root / "dist").glob("lenet_keras-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv])
    _run([venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", wheel])
    work = root / "work"  # cwd for the venv's commands: away from the checkout, whose lenet_keras must not be seen
    work.mkdir()
    return {"wheel": wheel, "venv": venv, "work": work}


@pytest.fixture(scope="module")
def digit_files(mnist, tmp_path_factory):
    """Test digits as people write them: dark ink on light paper, enlarged, as PNG and JPEG."""
    _, (x_test, y_test) = mnist
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for i, index in enumerate(range(100, 106)):
        path = folder / f"digit{i}.{'png' if i % 2 else 'jpg'}"
        Image.fromarray(255 - x_test[index]).resize((160, 160), Image.BICUBIC).convert("RGB").save(path)
        files.append(path)
    return files, y_test[100:106].tolist()


def _venv_size(folder):
    """Bytes on disk, as `du` counts them (hard links once)."""
    seen, total = set(), 0
    for path in Path(folder).rglob("*"):
        info = path.lstat()
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    return total


def test_wheel_is_small_and_carries_the_bundled_model(runtime):
    wheel = runtime["wheel"]
    assert wheel.stat().st_size <= WHEEL_LIMIT, wheel.stat().st_size
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("lenet_keras/runtime/lenet5_int8.tflite") == RELEASE_INT8.read_bytes()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist")]
    assert all(n.startswith(("lenet_keras/", "lenet_keras-")) for n in names), names  # no tests, notebooks
    unconditional = sorted(re.split(r"[<>=!~ ]", line.split()[1])[0] for line in requires if ";" not in line)
    assert unconditional == ["ai-edge-litert", "numpy", "pillow"]  # TensorFlow only under extra == "train"


def test_runtime_venv_has_no_tensorflow_and_stays_small(runtime):
    python = runtime["venv"] / "bin" / "python"
    code = "import importlib.util as u, json; print(json.dumps({n: bool(u.find_spec(n)) for n in %r}))"
    names = ("tensorflow", "keras", "onnxruntime", "pandas", "lenet_keras", "ai_edge_litert")
    found = json.loads(_run([python, "-c", code % (names,)], cwd=runtime["work"]).stdout)
    assert found == {n: n in ("lenet_keras", "ai_edge_litert") for n in names}
    size = _venv_size(runtime["venv"])
    print(f"runtime venv: {size / 1e6:.0f} MB")
    assert size <= VENV_LIMIT, size


def test_runtime_predict_answers_as_the_full_install(runtime, digit_files):
    """The bundled model in the wheel's venv against the full install running the release's int8 file."""
    files, labels = digit_files
    command = [runtime["venv"] / "bin" / "lenet-keras", "predict", *files, "--json", "--top", "3"]
    runtime_answers = json.loads(_run(command, cwd=runtime["work"]).stdout)
    full = [sys.executable, "-m", "lenet_keras", "predict", RELEASE_INT8, *files, "--json", "--top", "3"]
    full_answers = json.loads(_run(full, cwd=ROOT).stdout)
    assert [a["digit"] for a in runtime_answers] == labels
    for ours, theirs in zip(runtime_answers, full_answers, strict=True):
        assert [t["digit"] for t in ours["top"]] == [t["digit"] for t in theirs["top"]]
        np.testing.assert_allclose(
            [t["probability"] for t in ours["top"]], [t["probability"] for t in theirs["top"]], atol=1e-6
        )


def test_runtime_train_says_how_to_install_the_training_side(runtime):
    result = subprocess.run(
        [runtime["venv"] / "bin" / "lenet-keras", "train", "--epochs", "1"],
        cwd=runtime["work"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ALONE,
    )
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "lenet-keras train: error: this command needs the training side and tensorflow is not installed; "
        'install it with pip install "lenet-keras[train]".'
    ]
    assert list(runtime["work"].iterdir()) == []  # no saved_models/ made, no lock left
