"""The ways to install list the same dependencies, and the base install stays the runtime only."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement):
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_pip_requirements():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    return lines, {line.strip()[2:].strip() for line in lines[start + 1 :] if line.strip().startswith("- ")}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    extras = PROJECT["optional-dependencies"]
    pyproject = {r.strip() for r in PROJECT["dependencies"] + extras["train"] + extras["dev"]}
    lines, conda_pip = _conda_pip_requirements()
    assert {_name(r) for r in conda_pip} == {_name(r) for r in pyproject}
    assert conda_pip == pyproject  # the same version ranges too
    assert "  - python=3.11" in lines


def test_base_install_is_the_runtime_and_training_is_an_extra():
    assert {_name(r) for r in PROJECT["dependencies"]} == {"numpy", "pillow", "ai-edge-litert"}
    train = {_name(r) for r in PROJECT["optional-dependencies"]["train"]}
    assert {"tensorflow", "keras", "tf2onnx", "onnxruntime"} <= train
