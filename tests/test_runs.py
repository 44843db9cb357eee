"""Runs that cannot mix: one process per output folder, resume only the same recipe, --restart, a full disk."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lenet_keras.locks import FolderInUseError, hold_folder
from lenet_keras.runs import RecipeMismatchError
from lenet_keras.runtime.files import DiskFullError

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
    args = ("--epochs", 1, "--limit", 500, "--batch-size", 128, "--out", out)
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
    assert history_epochs(out) == [0]  # one run's epoch, once
    assert leftovers(out) == []  # the lock file goes with its holder


HOLD_AND_SLEEP = textwrap.dedent(
    """
    import sys, time
    from lenet_keras.locks import hold_folder
    with hold_folder(sys.argv[1]):
        print("held", flush=True)
        time.sleep(120)
    """
)


def test_lock_of_a_killed_process_is_released(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_SLEEP, tmp_path], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(FolderInUseError, match=f"in use by another lenet-keras process \\(pid {holder.pid}\\)"):
        with hold_folder(tmp_path):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with hold_folder(tmp_path), hold_folder(tmp_path):  # the second, nested take is this process's own: no wait
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
    assert leftovers(tmp_path) == []


def test_changed_variant_is_refused_in_one_sentence_and_restart_starts_over(killed_copy, mnist_dir):
    before = snapshot(killed_copy)
    classic = ("--variant", "classic", "--epochs", 2, "--limit", 500, "--batch-size", 128, "--out", killed_copy)
    refused = run(cli("train", *classic), mnist_dir)
    assert refused.returncode == 1
    assert one_line(refused.stderr) == (
        f"lenet-keras train: error: {killed_copy} holds an unfinished run with other settings "
        "(model.variant modern → classic, model.batch_norm True → False, data.limit 2000 → 500, epochs 3 → 2); "
        "run with --restart "
        "(restart=True in Python) to discard it and start over, or choose another --out."
    )
    assert snapshot(killed_copy) == before

    restarted = run(cli("train", *classic, "--restart"), mnist_dir)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert "Epoch 1/2" in restarted.stdout
    assert history_epochs(killed_copy) == [0, 1]  # only the new run's epochs
    assert json.loads((killed_copy / "metrics.json").read_text())["model"]["variant"] == "classic"
    assert not (killed_copy / "backup").exists() and leftovers(killed_copy) == []


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


def test_same_recipe_resumes(killed_copy, mnist):
    from lenet_keras.train import recipe, train

    config = recipe(variant="modern", epochs=3, limit=2000, batch_size=128, out_dir=killed_copy)  # = KILLED
    _, history = train(config, mnist=mnist, verbose=0)
    assert len(history["loss"]) == 2  # this call ran epochs 2 and 3 only
    assert history_epochs(killed_copy) == [0, 1, 2]  # each epoch once: nothing redone, nothing skipped
    assert not (killed_copy / "backup").exists() and leftovers(killed_copy) == []


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_during_the_backup_keeps_the_last_whole_backup(killed_copy, mnist, monkeypatch):
    import keras

    from lenet_keras.train import recipe, train

    backup = killed_copy / "backup"
    before = snapshot(backup)
    monkeypatch.setattr(keras.Model, "save_weights", full_disk)  # what the crash backup calls at each epoch's end
    config = recipe(variant="modern", epochs=3, limit=2000, batch_size=128, out_dir=killed_copy)  # = KILLED
    with pytest.raises(DiskFullError) as full:
        train(config, mnist=mnist, verbose=0)
    weights = backup / "latest.weights.h5"
    assert (
        str(full.value) == f"could not write {weights}: no space left on device; the previous version is left in place."
    )
    assert snapshot(backup) == before  # the epoch-1 backup is whole, and nothing else is there: it can still resume


def test_full_disk_during_the_checkpoint_keeps_the_previous_model(killed_copy, mnist_dir, monkeypatch):
    import keras

    from lenet_keras.pipeline import train_and_report
    from lenet_keras.train import recipe

    model = killed_copy / "lenet5.keras"
    before = model.read_bytes()
    monkeypatch.setattr(keras.Model, "save", full_disk)  # what ModelCheckpoint calls to write the model
    # Another recipe, so the run gets as far as the checkpoint only because restart=True discarded the backup.
    config = recipe(variant="modern", epochs=1, limit=500, batch_size=128, out_dir=killed_copy)
    with pytest.raises(DiskFullError) as full:
        train_and_report(config, data_dir=mnist_dir, restart=True)
    assert (
        str(full.value) == f"could not write {model}: no space left on device; the previous version is left in place."
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
    from lenet_keras.evaluate import write_json
    from lenet_keras.runtime import files

    path = write_json({"test_accuracy": 0.99}, tmp_path / "metrics.json")
    before = path.read_bytes()

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full_disk)
    with pytest.raises(DiskFullError, match=f"^could not write {path}: no space left on device;"):
        write_json({"test_accuracy": 0.5}, path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []
