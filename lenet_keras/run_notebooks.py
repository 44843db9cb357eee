"""`make run`: execute the notebooks in order with nbconvert and show what is happening meanwhile.

For each notebook the terminal shows its name, the lines it appends to $LENET_PROGRESS (one per
training epoch in notebook 02) and its time; its HTML copy is exported while the next one runs.
nbconvert's own output (kernel and TensorFlow warnings) goes to OUTPUT_DIR/NAME.log and is shown
only when a notebook or an export fails. At the end, the test accuracy and the files written.

    python -m lenet_keras.run_notebooks notebooks/0*.ipynb --output-dir build/notebooks
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.5


class NotebookFailed(RuntimeError):
    """A notebook stopped with an error; the message ends with the tail of nbconvert's log."""


def nbconvert(*args):
    """The nbconvert command line, run by this interpreter so its kernels are this environment's."""
    return [sys.executable, "-m", "nbconvert", *args]


def _new_lines(path, offset):
    """Complete lines appended to `path` since byte `offset`; returns (lines, new offset)."""
    if not path.is_file():
        return [], offset
    with open(path, "rb") as f:
        f.seek(offset)
        chunk = f.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    return complete.decode(errors="replace").splitlines(), offset + len(complete)


def _log_path(notebook, output_dir):
    return Path(output_dir) / f"{Path(notebook).stem}.log"


def _failure(what, log_path):
    tail = "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-40:])
    return NotebookFailed(f"{what} failed; the end of {log_path}:\n{tail}")


def execute(notebook, output_dir, echo=print, timeout=3600):
    """Execute one notebook into output_dir (the executed copy), echoing its progress lines; return seconds."""
    notebook, output_dir = Path(notebook), Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    progress, log_path = output_dir / f"{notebook.stem}.progress", _log_path(notebook, output_dir)
    progress.unlink(missing_ok=True)
    env = {**os.environ, "LENET_PROGRESS": str(progress.resolve())}
    command = nbconvert("--to", "notebook", "--execute", f"--ExecutePreprocessor.timeout={timeout}")
    command += ["--output-dir", str(output_dir), str(notebook)]
    start, offset = time.perf_counter(), 0
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        while True:
            finished = process.poll() is not None  # read once more after the end, for the last lines
            lines, offset = _new_lines(progress, offset)
            for line in lines:
                echo(f"   {line}")
            if finished:
                break
            time.sleep(POLL_SECONDS)
    if process.returncode != 0:
        raise _failure(str(notebook), log_path)
    return time.perf_counter() - start


def export_html(notebook, output_dir):
    """Start nbconvert's HTML export of output_dir's executed copy of `notebook`, its output appended to the
    notebook's log; return the running process (see `finish`). make run lets each export run while the next
    notebook executes: an export is one core's 2 s, and the next notebook's first seconds are one core's too."""
    executed = Path(output_dir) / Path(notebook).name
    with open(_log_path(notebook, output_dir), "a") as log:
        return subprocess.Popen(nbconvert("--to", "html", str(executed)), stdout=log, stderr=subprocess.STDOUT)


def finish(export):
    """Wait for an `export_html` process; NotebookFailed, with the end of the notebook's log, if it failed."""
    if export.wait() != 0:
        executed = Path(export.args[-1])
        raise _failure(f"the HTML export of {executed}", _log_path(executed, executed.parent))


def summarize(out_dir, output_dir):
    """The closing lines: test accuracy from metrics.json, the int8 model's from parity.json, the files written."""
    out_dir, output_dir = Path(out_dir), Path(output_dir)
    lines = []
    if (out_dir / "metrics.json").is_file():
        metrics = json.loads((out_dir / "metrics.json").read_text())
        lines.append(
            f"test accuracy {metrics['test_accuracy']:.2%} "
            f"({metrics['test_errors']} errors in {metrics['test_images']:,} images)"
        )
    if (out_dir / "parity.json").is_file():
        rows = {r["format"]: r for r in json.loads((out_dir / "parity.json").read_text())["rows"]}
        if "tflite_int8" in rows:
            lines.append(f"int8 TFLite test accuracy {rows['tflite_int8']['test_accuracy']:.2%}")
    lines.append(f"files in {out_dir}/:")
    for path in sorted(out_dir.iterdir()) if out_dir.is_dir() else []:
        size = f"{path.stat().st_size / 1000:,.1f} KB" if path.is_file() else "folder"
        lines.append(f"   {path.name:<28}{size:>14}")
    lines.append(f"executed notebooks and HTML: {output_dir}/")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lenet_keras.run_notebooks", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output-dir", type=Path, default=Path("build/notebooks"))
    parser.add_argument(
        "--out", type=Path, default=Path(os.environ.get("LENET_OUT", "saved_models")), help="the notebooks' OUT_DIR"
    )
    args = parser.parse_args(argv)
    total, exports = time.perf_counter(), []
    try:
        for notebook in args.notebooks:
            print(f"== {notebook}", flush=True)
            seconds = execute(notebook, args.output_dir, echo=lambda line: print(line, flush=True))
            exports.append(export_html(notebook, args.output_dir))
            print(f"   done in {seconds:.1f} s", flush=True)
        for export in exports:
            finish(export)
    except NotebookFailed as e:
        for export in exports:
            export.wait()
        print(e, file=sys.stderr)
        return 1
    print(f"== finished in {time.perf_counter() - total:.0f} s")
    print("\n".join(summarize(args.out, args.output_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
