"""The command line as a user meets it: answers, JSON, and one clear line for every bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
INT8 = ROOT / "saved_models" / "lenet5_int8.tflite"


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "lenet_keras", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def digit_files(mnist, tmp_path_factory):
    """Test digits the way people write them: dark ink on light paper, larger, in several formats."""
    _, (x_test, y_test) = mnist
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for i, fmt in enumerate(["png", "jpg", "bmp", "npy"]):
        paper = Image.fromarray(255 - x_test[i]).resize((140, 140), Image.BICUBIC)
        path = folder / f"digit{i}.{fmt}"
        np.save(path, np.asarray(paper)) if fmt == "npy" else paper.convert("RGB").save(path)
        files.append((path, int(y_test[i])))
    return files


def test_predict_reads_each_format_and_answers_right(digit_files):
    result = run_cli("predict", INT8, *[p for p, _ in digit_files], "--json", "--top", "3")
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [a["digit"] for a in answers] == [label for _, label in digit_files]
    for a in answers:
        assert len(a["top"]) == 3 and a["top"][0]["probability"] >= a["top"][1]["probability"]
        assert a["probability"] > 0.5 and a["reason"] is None


def test_predict_plain_output(digit_files):
    path, label = digit_files[0]
    result = run_cli("predict", INT8, path)
    assert result.returncode == 0
    assert result.stdout.startswith(f"{path}: {label} (")


def test_predict_does_not_import_tensorflow(digit_files):
    code = (
        "import sys; from lenet_keras.cli import main; "
        f"rc = main(['predict', {str(INT8)!r}, {str(digit_files[0][0])!r}]); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'; "
        "sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _bad_inputs(folder):
    text = folder / "notes.png"
    text.write_text("this is not an image")
    empty = folder / "empty.png"
    empty.touch()
    fake_model = folder / "model.tflite"
    fake_model.write_text("not a model")
    return {
        "not an image": (["predict", INT8, text], "notes.png"),
        "zero-byte image": (["predict", INT8, empty], "empty.png"),
        "missing image": (["predict", INT8, folder / "nope.png"], "nope.png"),
        "missing model": (["predict", folder / "missing.tflite", text], "missing.tflite"),
        "not a model": (["predict", fake_model, text], "model.tflite"),
        "missing keras model": (["evaluate", "--out", folder / "nowhere"], "model file not found"),
    }


@pytest.mark.parametrize(
    "case", ["not an image", "zero-byte image", "missing image", "missing model", "not a model", "missing keras model"]
)
def test_bad_input_gets_one_clear_line(tmp_path, case):
    args, expected = _bad_inputs(tmp_path)[case]
    result = run_cli(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--epochs", "0"],
        ["train", "--variant", "lenet7"],
        ["predict", INT8],
        ["predict", INT8, "x.png", "--top", "zero"],
        ["fly"],
    ],
)
def test_bad_arguments_exit_with_usage(args):
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error:" in result.stderr


def test_odd_but_valid_images_are_read_right(mnist, tmp_path):
    """An animated GIF (first frame), a 16-bit PNG and an RGBA PNG whose paper is transparent."""
    _, (x_test, y_test) = mnist
    frames = [Image.fromarray(255 - x_test[i]).resize((112, 112)) for i in range(3)]
    frames[0].save(tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.fromarray((255 - x_test[1]).astype(np.uint16) * 257).resize((112, 112)).save(tmp_path / "deep.png")
    rgba = np.zeros((112, 112, 4), np.uint8)
    rgba[..., 3] = np.asarray(Image.fromarray(x_test[2]).resize((112, 112)))  # black ink, alpha = the digit
    Image.fromarray(rgba, "RGBA").save(tmp_path / "transparent.png")
    files = [tmp_path / name for name in ("animated.gif", "deep.png", "transparent.png")]
    result = run_cli("predict", INT8, *files, "--json")
    assert result.returncode == 0, result.stderr
    assert [a["digit"] for a in json.loads(result.stdout)] == [int(y) for y in y_test[:3]]


def test_blank_images_are_reported_as_no_digit(tmp_path):
    for name, value in [("white.png", 255), ("black.png", 0)]:
        Image.new("L", (100, 100), value).save(tmp_path / name)
    result = run_cli("predict", INT8, tmp_path / "white.png", tmp_path / "black.png", "--json")
    assert result.returncode == 0
    assert all(a["digit"] is None and a["reason"] == "no digit found" for a in json.loads(result.stdout))
    plain = run_cli("predict", INT8, tmp_path / "white.png")
    assert plain.stdout.strip() == f"{tmp_path / 'white.png'}: no digit found"


def test_show_writes_the_image_the_model_saw(digit_files, tmp_path):
    """Each PNG, shrunk back to 28x28, is the array the model classified; same-named inputs get distinct files."""
    from lenet_keras.runtime.images import load_image
    from lenet_keras.runtime.tflite import TFLiteClassifier

    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / digit_files[0][0].name  # same basename as the first input, another folder
    twin.write_bytes(digit_files[1][0].read_bytes())
    inputs = [digit_files[0][0], twin, digit_files[3][0]]
    show = tmp_path / "seen" / "deeper"  # created, parents too
    result = run_cli("predict", INT8, *inputs, "--json", "--show", show)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    shown = [Path(a["shown"]) for a in answers]
    assert len(set(shown)) == 3 and all(p.parent == show and p.suffix == ".png" for p in shown)
    classifier = TFLiteClassifier(INT8)
    for path, answer, png in zip(inputs, answers, shown, strict=True):
        big = np.asarray(Image.open(png))
        assert big.shape == (280, 280) and big.dtype == np.uint8
        seen = big[::10, ::10]
        assert np.array_equal(big, np.kron(seen, np.ones((10, 10), np.uint8)))  # whole 10x10 blocks, no smoothing
        assert np.array_equal(seen, load_image(path))
        assert classifier.predict_proba(seen[None])[0].max() == pytest.approx(answer["probability"], abs=1e-6)
    plain = run_cli("predict", INT8, inputs[0], "--show", show)
    assert plain.returncode == 0 and f"(the model saw {shown[0]})" in plain.stdout


def test_show_into_a_bad_folder_gets_one_clear_line(digit_files, tmp_path):
    (tmp_path / "file.txt").write_text("not a folder")
    cases = {
        tmp_path / "file.txt": "file.txt: not a folder; pass a folder to show images in",
        tmp_path / "file.txt" / "sub": "file.txt/sub: cannot create the folder",
    }
    if os.geteuid() != 0:  # root writes anywhere, so only another user can meet a read-only folder
        (tmp_path / "locked").mkdir(mode=0o555)
        cases[tmp_path / "locked"] = "locked: the folder is not writable"
    for folder, expected in cases.items():
        result = run_cli("predict", INT8, digit_files[0][0], "--show", folder)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
        assert len(lines) == 1 and expected in lines[0], result.stderr


def test_show_into_a_read_only_folder_gets_one_clear_line(digit_files, tmp_path, monkeypatch, capsys):
    """The permission check itself, which root never fails: the folder reads as not writable."""
    from lenet_keras.cli import main

    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert main(["predict", str(INT8), str(digit_files[0][0]), "--show", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().splitlines() == [
        f"lenet-keras predict: error: {tmp_path}: the folder is not writable; pass a folder you can write to."
    ]


def test_start_up_pauses_the_collector_then_freezes_and_always_resumes_it():
    import gc

    from lenet_keras.cli import start_up

    with start_up():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    with pytest.raises(ImportError), start_up():
        raise ImportError("a missing module")
    assert gc.isenabled()
    gc.unfreeze()
