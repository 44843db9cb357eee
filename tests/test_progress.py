"""`make run`'s progress: one line per epoch from the callback, followed by the notebook driver."""

import json

import keras
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from lenet_keras.progress import EpochLog
from lenet_keras.run_notebooks import NotebookFailed, execute, export_html, finish, summarize


def test_epoch_log_writes_one_line_per_epoch_with_the_history_values(tmp_path):
    x, y = np.random.default_rng(0).normal(size=(64, 4)), np.arange(64) % 2
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[EpochLog(tmp_path / "p.log")])
    lines = (tmp_path / "p.log").read_text().splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    for line, loss, val_accuracy in zip(lines, history.history["loss"], history.history["val_accuracy"], strict=True):
        assert f"loss {loss:.4f}" in line and f"val_accuracy {val_accuracy:.4f}" in line and line.endswith(" s")


def _notebook(path, source):
    nbformat.write(new_notebook(cells=[new_code_cell(source)]), path)
    return path


def test_driver_streams_progress_lines_and_writes_the_executed_copy_and_html(tmp_path):
    notebook = _notebook(
        tmp_path / "07_demo.ipynb",
        "import os\nopen(os.environ['LENET_PROGRESS'], 'a').write('epoch 1/2  loss 0.5\\nepoch 2/2  loss 0.25\\n')",
    )
    shown = []
    seconds = execute(notebook, tmp_path / "build", echo=shown.append)
    assert shown == ["   epoch 1/2  loss 0.5", "   epoch 2/2  loss 0.25"] and seconds > 0
    assert (tmp_path / "build" / "07_demo.ipynb").is_file()
    finish(export_html(notebook, tmp_path / "build"))
    assert (tmp_path / "build" / "07_demo.html").is_file()


def test_a_failed_html_export_is_reported_with_the_log(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "09_torn.ipynb").write_text("{ not json")  # an executed copy that cannot be read
    with pytest.raises(NotebookFailed, match="HTML export of .*09_torn.ipynb failed"):
        finish(export_html(tmp_path / "09_torn.ipynb", tmp_path / "build"))


def test_driver_reports_a_failing_notebook_with_its_error(tmp_path):
    notebook = _notebook(tmp_path / "08_broken.ipynb", "raise RuntimeError('the notebook broke')")
    with pytest.raises(NotebookFailed, match="the notebook broke"):
        execute(notebook, tmp_path / "build", echo=print)


def test_summary_names_the_test_accuracy_and_the_files(tmp_path):
    metrics = {"test_accuracy": 0.9936, "test_errors": 64, "test_images": 10000}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "parity.json").write_text(json.dumps({"rows": [{"format": "tflite_int8", "test_accuracy": 0.9935}]}))
    lines = summarize(tmp_path, "build/notebooks")
    assert lines[0] == "test accuracy 99.36% (64 errors in 10,000 images)"
    assert lines[1] == "int8 TFLite test accuracy 99.35%"
    assert any("metrics.json" in line for line in lines)
    assert lines[-1] == "executed notebooks and HTML: build/notebooks/"
