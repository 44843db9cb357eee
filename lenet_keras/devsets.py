"""Two public sets of real handwriting, read as a user's scans: USPS test (2,007) and Semeion (1,593).

They are development sets for reading real digits: evaluated on, never trained on, and not shipped.
Point $LENET_USPS_DIR and $LENET_SEMEION_DIR at folders holding the original files (zip.test.gz from
The Elements of Statistical Learning's data page; semeion.data from the UCI repository).
Both come as dark ink on white paper at their own size, 16x16, as a scan would.
"""

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["LOADERS", "dev_folder", "load_semeion", "load_usps"]


def dev_folder(name):
    """The folder of dev set `name` ("usps", "semeion") from $LENET_<NAME>_DIR, or None when unset or missing."""
    path = os.environ.get(f"LENET_{name.upper()}_DIR")
    return Path(path) if path and Path(path).is_dir() else None


def load_usps(folder):
    """USPS test: (images (2007, 16, 16) uint8, dark ink on white, labels (2007,))."""
    with gzip.open(Path(folder) / "zip.test.gz", "rt") as f:
        rows = np.array([line.split() for line in f if line.strip()], np.float32)
    ink = (rows[:, 1:].reshape(-1, 16, 16) + 1) / 2  # -1 paper .. +1 ink
    return np.round(255 * (1 - ink)).astype(np.uint8), rows[:, 0].astype(np.int64)


def load_semeion(folder):
    """Semeion: (images (1593, 16, 16) uint8, dark ink on white, labels (1593,))."""
    rows = np.loadtxt(Path(folder) / "semeion.data", dtype=np.float32)
    ink = rows[:, :256].reshape(-1, 16, 16)
    return np.round(255 * (1 - ink)).astype(np.uint8), rows[:, 256:].argmax(axis=1)


LOADERS = {"usps": load_usps, "semeion": load_semeion}
