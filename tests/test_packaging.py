"""The two ways to install list the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement):
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = {r.strip() for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    conda_pip = {line.strip()[2:].strip() for line in lines[start + 1 :] if line.strip().startswith("- ")}
    assert {_name(r) for r in conda_pip} == {_name(r) for r in pyproject}
    assert conda_pip == pyproject  # the same version ranges too
    assert "  - python=3.11" in lines
