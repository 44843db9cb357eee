"""Whole-process speed against the PyTorch peers, measured the only way that holds up on a shared machine:
interleaved runs (ours, theirs, ours, theirs, ...), several pairs, medians and per-pair ratios.

Two comparisons, as whole processes (imports, data loading and saving included):
- a one-epoch run: `lenet-keras train --epochs 1` against the original PyTorch recipe's `--epochs 1`;
- the marginal epoch: (5-epoch run - 1-epoch run) / 4, against the strong PyTorch peer doing the same
  kind of augmentation (affine, plus elastic when the default recipe uses it).
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lenet_keras.data import DataConfig

TRAIN_IMAGES = 60_000  # MNIST's training set, before the validation split
# The project's PyTorch peers, in the source checkout (developers' tools: the wheel does not carry them).
PEERS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"
PEERS = ("peer_seed_torch.py", "peer_torch_fast.py")


def run_seconds(command):
    """Wall seconds of one process; a failure stops the comparison with the command's last words."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ValueError(f"{' '.join(map(str, command))} failed ({tail[0]}).")
    return seconds


def peer_folder(bench_dir=None):
    """The folder of the two peer scripts (benchmarks/peers by default); one sentence if a script is missing."""
    folder = Path(bench_dir) if bench_dir is not None else PEERS_DIR
    for name in PEERS:
        if not (folder / name).is_file():
            raise ValueError(f"{folder / name}: no such peer script; pass --bench-dir with {' and '.join(PEERS)}.")
    return folder


def commands(peer_python, bench_dir, out_dir, data_dir=None):
    """The five processes of one round: ours for 1 and 5 epochs, the original for 1, the strong peer for 1 and 5."""
    bench_dir = peer_folder(bench_dir)
    data = ["--data-dir", str(data_dir)] if data_dir else []
    ours = [sys.executable, "-m", "lenet_keras", "train", "--restart", "--out", str(out_dir), *data]
    augmentation = ["--augment", *(["--elastic"] if DataConfig().elastic_alpha else [])]
    strong = [str(peer_python), str(bench_dir / "peer_torch_fast.py"), *augmentation, *data]
    return {
        "ours_1": [*ours, "--epochs", "1"],
        "original_1": [str(peer_python), str(bench_dir / "peer_seed_torch.py"), "--epochs", "1", *data],
        "ours_5": [*ours, "--epochs", "5"],
        "strong_1": [*strong, "--epochs", "1"],
        "strong_5": [*strong, "--epochs", "5"],
    }


def compare(peer_python, bench_dir=None, pairs=3, data_dir=None, log=print):
    """Run `pairs` interleaved rounds; return every time, the per-pair ratios and their medians."""
    times = {}
    with tempfile.TemporaryDirectory(prefix="lenet-versus-") as out:
        runs = commands(peer_python, bench_dir, out, data_dir)
        for round_ in range(pairs):
            for name, command in runs.items():
                times.setdefault(name, []).append(round(run_seconds(command), 2))
                log(f"round {round_ + 1}/{pairs}  {name:<11} {times[name][-1]:6.2f} s")
    ours_marginal = [(five - one) / 4 for one, five in zip(times["ours_1"], times["ours_5"], strict=True)]
    strong_marginal = [(five - one) / 4 for one, five in zip(times["strong_1"], times["strong_5"], strict=True)]
    one_epoch_ratio = [a / b for a, b in zip(times["ours_1"], times["original_1"], strict=True)]
    marginal_ratio = [a / b for a, b in zip(ours_marginal, strong_marginal, strict=True)]
    images = TRAIN_IMAGES - DataConfig().validation_size  # both train on 55,000 and validate on 5,000
    return {
        "seconds": times,
        "marginal_epoch_seconds": {"ours": _rounded(ours_marginal), "strong_peer": _rounded(strong_marginal)},
        # Steady state: training images per second of a marginal epoch (its validation included).
        "steady_images_per_second": {
            "ours": round(images / statistics.median(ours_marginal)),
            "strong_peer": round(images / statistics.median(strong_marginal)),
        },
        # What a run costs besides its epochs: a 1-epoch run minus one marginal epoch, per round.
        "fixed_cost_seconds": {
            "ours": _rounded([one - m for one, m in zip(times["ours_1"], ours_marginal, strict=True)]),
            "strong_peer": _rounded([one - m for one, m in zip(times["strong_1"], strong_marginal, strict=True)]),
        },
        "one_epoch_run_ratio_vs_original": _rounded(one_epoch_ratio, 3),
        "marginal_epoch_ratio_vs_strong_peer": _rounded(marginal_ratio, 3),
        "median_one_epoch_run_ratio_vs_original": round(statistics.median(one_epoch_ratio), 3),
        "median_marginal_epoch_ratio_vs_strong_peer": round(statistics.median(marginal_ratio), 3),
        "strong_peer_flags": [flag for flag in runs["strong_5"] if flag in ("--augment", "--elastic")],
    }


def _rounded(values, digits=2):
    return [round(v, digits) for v in values]
