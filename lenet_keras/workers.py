"""`to_mnist` over many drawn images at once, on every core: the non-digits and lead-ins of the not-a-digit head.

`to_mnist` is numpy on small arrays, bound by Python's lock, and the head's fit brings 12,000 drawn images
through it. Each worker is a fresh `python -m lenet_keras.workers` reading its share on stdin: a process forked
from one that has imported TensorFlow may hang on the locks its threads held, and multiprocessing's "spawn"
runs the caller's script again in each worker unless it is guarded by `if __name__ == "__main__"`. The results
are in the inputs' order, the same numbers as one `to_mnist` after another.
"""

import io
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lenet_keras.runtime.images import to_mnist

__all__ = ["MIN_PARALLEL", "map_to_mnist", "worker_count"]

MIN_PARALLEL = 500  # fewer images than this are done here: starting a worker takes a few tenths of a second
_ROOT = str(Path(__file__).resolve().parents[1])  # the folder holding the package, for the workers' imports


def worker_count():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _prepare(arrays):
    return np.stack([to_mnist(a) for a in arrays]) if arrays else np.zeros((0, 28, 28), np.uint8)


def _in_worker(arrays):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "lenet_keras.workers"],
        input=pickle.dumps(arrays, protocol=pickle.HIGHEST_PROTOCOL),
        capture_output=True,
        env=env,
    )
    if done.returncode:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise RuntimeError(f"a to_mnist worker failed ({reason[0]}).")
    return np.load(io.BytesIO(done.stdout))


def map_to_mnist(arrays, workers=None):
    """A list of image arrays -> uint8 (N, 28, 28), `to_mnist` of each, split over `workers` processes (default:
    one per core; 1, or fewer than MIN_PARALLEL images: in this process)."""
    arrays = list(arrays)
    workers = worker_count() if workers is None else workers
    if workers <= 1 or not arrays or len(arrays) < MIN_PARALLEL:
        return _prepare(arrays)
    size = -(-len(arrays) // workers)
    shares = [arrays[i : i + size] for i in range(0, len(arrays), size)]
    with ThreadPoolExecutor(len(shares)) as pool:  # each thread waits on its worker, outside Python's lock
        return np.concatenate(list(pool.map(_in_worker, shares)))


if __name__ == "__main__":  # a worker: a pickled list of arrays on stdin (from map_to_mnist) -> .npy on stdout
    np.save(sys.stdout.buffer, _prepare(pickle.load(sys.stdin.buffer)))
