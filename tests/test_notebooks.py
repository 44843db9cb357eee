"""Execute every notebook headless, in order, in smoke mode (1 epoch on a few thousand images)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from lenet_keras.quiet import NATIVE_LOG_PATTERNS

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXECUTED = ROOT / "build" / "notebooks-test"  # the executed copies, kept for a look after a failure


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


def test_notebooks_have_no_logic_of_their_own():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert "def " not in cell.source and "for " not in cell.source, f"{path.name}: {cell.source[:60]}"


@pytest.fixture(scope="module")
def smoke_env(mnist_dir, tmp_path_factory, monkeypatch_module):
    out = tmp_path_factory.mktemp("notebooks")
    monkeypatch_module.setenv("LENET_SMOKE", "1")
    monkeypatch_module.setenv("LENET_OUT", str(out))
    monkeypatch_module.setenv("LENET_MNIST_DIR", mnist_dir)
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def executed_copies():
    """{notebook name: its executed copy}, filled by test_notebook_runs_headless in this session."""
    return {}


WRITES = {"02_training": "lenet5.keras", "03_evaluation": "confusion_matrix.png", "04_export": "lenet5_int8.tflite"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_headless(path, smoke_env, executed_copies):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, EXECUTED / path.name)
    executed_copies[path.name] = EXECUTED / path.name
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
    if path.stem in WRITES:
        assert (smoke_env / WRITES[path.stem]).stat().st_size > 0


def native_log_lines(notebook):
    """Lines of TensorFlow's or absl's C++ logging in a notebook's text outputs."""
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            lines += [line for line in text.splitlines() if any(p in line for p in NATIVE_LOG_PATTERNS)]
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_notebook_shows_no_native_logs(path, executed_copies):
    if path.name not in executed_copies:
        pytest.skip(f"{path.name} was not executed in this session")
    assert native_log_lines(nbformat.read(executed_copies[path.name], as_version=4)) == []
