"""Runs that cannot mix: one process per output folder, resume only the same recipe, --restart, a full disk."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from lenet_keras.files import DiskFullError
from lenet_keras.locks import FolderInUseError, hold_folder
from lenet_keras.runs import RecipeMismatchError

ROOT = Path(__file__).resolve().parents[1]
# The killed run's recipe; the tests below rerun it, or change it.
KILLED = ("--variant", "modern", "--epochs", 3, "--limit", 2000, "--batch-size", 128)


def cli(*args):
    return [sys.executable, "-m", "lenet_keras", *map(str, args)]


def run(args, mnist_dir):
    env = {**os.environ, "LENET_MNIST_DIR": mnist_dir}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def one_line(stderr):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


def history_epochs(out):
    path = Path(out) / "history.csv"
    rows = path.read_text().strip().splitlines()[1:] if path.exists() else []
    return [int(row.split(",")[0]) for row in rows]


def snapshot(folder):
    """Every file's bytes, but the lock file's: a process that is refused may still take over a dead one's lock."""
    return {p.relative_to(folder): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file() and p.name != ".lock"}


def leftovers(folder):
    return [p.name for p in Path(folder).iterdir() if p.name.startswith(".")]


@pytest.fixture(scope="module")
def killed(mnist_dir, tmp_path_factory):
    """A folder whose training was SIGKILLed after its first epoch: crash backup, one history row, a stale lock."""
    out = tmp_path_factory.mktemp("killed") / "run"
    env = {**os.environ, "LENET_MNIST_DIR": mnist_dir}
    process = subprocess.Popen(cli("train", *KILLED, "--out", out), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not history_epochs(out) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert history_epochs(out) == [0] and (out / "backup" / "recipe.json").is_file()
    assert (out / ".lock").read_text().strip() == str(process.pid)  # the dead process's lock file is still there
    return out


@pytest.fixture
def killed_copy(killed, tmp_path):
    return Path(shutil.copytree(killed, tmp_path / "run", symlinks=True))


def test_second_process_on_a_busy_folder_stops_at_once(mnist_dir, tmp_path):
    out = tmp_path / "run"
    args = ("--epochs", 2, "--limit", 2000, "--batch-size", 128, "--out", out)
    env = {**os.environ, "LENET_MNIST_DIR": mnist_dir}
    first = subprocess.Popen(cli("train", *args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out / ".lock").is_file() or not (out / ".lock").read_text().strip():
        assert time.monotonic() < deadline and first.poll() is None, "the first run never took the lock"
        time.sleep(0.02)
    for command in (["train", *args], ["evaluate", "--out", out], ["export", "--out", out]):
        second = run(cli(*command), mnist_dir)
        assert first.poll() is None, "the second process waited for the first instead of stopping"
        assert second.returncode == 1 and second.stdout == ""
        assert one_line(second.stderr) == (
            f"lenet-keras {command[0]}: error: {out} is in use by another lenet-keras process (pid {first.pid}); "
            "wait for it to finish or choose another --out."
        )
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr[-3000:]
    assert history_epochs(out) == [0, 1]  # one run's epochs, each once
    assert leftovers(out) == []  # the lock file goes with its holder


def test_lock_of_a_killed_process_is_released(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom lenet_keras.locks import hold_folder\n"
         "with hold_folder(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)", tmp_path],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(FolderInUseError, match=f"in use by another lenet-keras process \\(pid {holder.pid}\\)"):
        with hold_folder(tmp_path):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with hold_folder(tmp_path), hold_folder(tmp_path):  # the second, nested take is this process's own: no wait
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
    assert leftovers(tmp_path) == []


def test_changed_variant_is_refused_in_one_sentence(killed_copy, mnist_dir):
    before = snapshot(killed_copy)
    result = run(cli("train", *KILLED, "--variant", "classic", "--out", killed_copy), mnist_dir)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"lenet-keras train: error: {killed_copy} holds an unfinished run with other settings "
        "(model.variant modern → classic); run with --restart (restart=True in Python) to discard it "
        "and start over, or choose another --out."
    )
    assert snapshot(killed_copy) == before


def test_other_recipe_is_refused_and_the_differences_named(killed_copy, mnist_dir):
    from lenet_keras.pipeline import train_and_report
    from lenet_keras.train import recipe

    before = snapshot(killed_copy)
    config = recipe(variant="modern", epochs=2, limit=5000, batch_size=64, out_dir=killed_copy)
    with pytest.raises(RecipeMismatchError) as refused:
        train_and_report(config, data_dir=mnist_dir)
    message = str(refused.value)
    assert "(data.batch_size 128 → 64, data.limit 2000 → 5000, epochs 3 → 2)" in message and "--restart" in message
    assert snapshot(killed_copy) == before


def test_backup_without_a_recipe_is_refused(killed_copy):
    from lenet_keras.train import recipe, train

    (killed_copy / "backup" / "recipe.json").unlink()
    config = recipe(variant="modern", epochs=3, limit=2000, batch_size=128, out_dir=killed_copy)
    with pytest.raises(RecipeMismatchError, match="settings were not recorded .* --restart"):
        train(config)


def test_same_recipe_resumes(killed_copy, mnist_dir):
    result = run(cli("train", *KILLED, "--out", killed_copy), mnist_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Epoch 1/3" not in result.stdout and "Epoch 2/3" in result.stdout
    assert history_epochs(killed_copy) == [0, 1, 2]  # each epoch once: nothing redone, nothing skipped
    assert not (killed_copy / "backup").exists() and leftovers(killed_copy) == []


def test_restart_discards_the_unfinished_run(killed_copy, mnist_dir):
    args = ("--variant", "modern", "--epochs", 1, "--limit", 500, "--batch-size", 128, "--out", killed_copy)
    result = run(cli("train", *args, "--restart"), mnist_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Epoch 1/1" in result.stdout
    assert history_epochs(killed_copy) == [0]  # only the new run
    assert not (killed_copy / "backup").exists() and leftovers(killed_copy) == []


def test_restart_from_python_trains_the_new_variant(killed_copy, mnist_dir):
    from lenet_keras.pipeline import train_and_report
    from lenet_keras.train import recipe

    config = recipe(variant="classic", epochs=1, limit=500, batch_size=128, out_dir=killed_copy)
    config = replace(config, data=replace(config.data, validation_size=500))
    result = train_and_report(config, data_dir=mnist_dir, restart=True)
    assert result["metrics"]["model"]["variant"] == "classic"
    assert list(result["history"]["epoch"]) == [0]


FULL_DISK = textwrap.dedent(
    """
    import errno, sys
    from lenet_keras.cli import main, native_stderr_hidden

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with native_stderr_hidden():  # as main does, so TensorFlow's start-up lines stay off stderr
        import keras
    keras.Model.save = full_disk  # what ModelCheckpoint calls to write the model
    sys.exit(main(sys.argv[1:]))
    """
)


def test_full_disk_during_the_checkpoint_keeps_the_previous_model(killed_copy, mnist_dir):
    model = killed_copy / "lenet5.keras"
    before = model.read_bytes()
    args = ["train", "--epochs", 1, "--limit", 500, "--restart", "--out", killed_copy]
    result = run([sys.executable, "-c", FULL_DISK, *map(str, args)], mnist_dir)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"lenet-keras train: error: could not write {model}: no space left on device; "
        "the previous version is left in place."
    )
    assert model.read_bytes() == before and leftovers(killed_copy) == []


def test_full_disk_during_export_keeps_the_previous_exports(killed_copy, mnist, monkeypatch):
    from lenet_keras.export import SAVED_MODEL, TFLITE_FLOAT, TFLITE_INT8
    from lenet_keras.pipeline import export_and_check

    for name in (TFLITE_FLOAT, TFLITE_INT8, f"{SAVED_MODEL}/saved_model.pb"):
        (killed_copy / name).parent.mkdir(exist_ok=True)
        (killed_copy / name).write_bytes(f"the previous {name}".encode())
    before = snapshot(killed_copy)
    write_bytes = Path.write_bytes

    def full_disk_at_float32(path, data):  # the SavedModel is written by then, beside it
        if path.name == TFLITE_FLOAT:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk_at_float32)
    with pytest.raises(DiskFullError) as full:
        export_and_check(killed_copy / "lenet5.keras", mnist=mnist)
    assert str(full.value) == (
        f"could not write {killed_copy / TFLITE_FLOAT}: no space left on device; the previous version is left in place."
    )
    assert snapshot(killed_copy) == before and leftovers(killed_copy) == []


def test_full_disk_while_writing_json_keeps_the_previous_file(tmp_path, monkeypatch):
    from lenet_keras import files
    from lenet_keras.evaluate import write_json

    path = write_json({"test_accuracy": 0.99}, tmp_path / "metrics.json")
    before = path.read_bytes()

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full_disk)
    with pytest.raises(DiskFullError, match=f"^could not write {path}: no space left on device;"):
        write_json({"test_accuracy": 0.5}, path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []
