"""Read and write MNIST's IDX files, checked against the canonical MNIST content.

Numpy only: no TensorFlow here, so the data can be checked and loaded cheaply.
"""

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_DIR_ENV = "LENET_MNIST_DIR"

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte), the rank.
IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}


@dataclass(frozen=True)
class IdxSpec:
    name: str  # file name without .gz
    shape: tuple  # (items, ...) expected; items None = any count
    sha256: str  # of the uncompressed content


MNIST_FILES = {
    "train_images": IdxSpec(
        "train-images-idx3-ubyte",
        (60000, 28, 28),
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train_labels": IdxSpec(
        "train-labels-idx1-ubyte",
        (60000,),
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "test_images": IdxSpec(
        "t10k-images-idx3-ubyte",
        (10000, 28, 28),
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "test_labels": IdxSpec(
        "t10k-labels-idx1-ubyte",
        (10000,),
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}


def _read_bytes(path):
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: cannot read the file ({e}); is it a valid gzip/IDX file?") from None


def parse_idx(content, source="<bytes>", shape=None, sha256=None):
    """Parse IDX bytes into a uint8 array, checking magic, dimensions, size and checksum."""
    if len(content) < 4:
        raise ValueError(f"{source}: file is truncated ({len(content)} bytes, no IDX header).")
    magic = int.from_bytes(content[:4], "big")
    ndim = content[3]
    if magic >> 8 != 0x08 or ndim not in (1, 2, 3, 4):
        raise ValueError(f"{source}: wrong magic number 0x{magic:08x}; expected an unsigned-byte IDX file.")
    if shape is not None and magic != IDX_MAGIC.get(len(shape)):
        raise ValueError(
            f"{source}: wrong magic number 0x{magic:08x}; expected 0x{IDX_MAGIC[len(shape)]:08x} "
            f"for a {len(shape)}-dimensional file."
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(f"{source}: file is truncated inside its header.")
    dims = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if shape is not None and dims[1:] != tuple(shape[1:]):
        raise ValueError(f"{source}: wrong dimensions {dims[1:]}; expected {tuple(shape[1:])}.")
    if shape is not None and shape[0] is not None and dims[0] != shape[0]:
        raise ValueError(f"{source}: wrong item count {dims[0]}; expected {shape[0]}.")
    expected_size = header + int(np.prod(dims))
    if len(content) != expected_size:
        kind = "truncated" if len(content) < expected_size else "too long"
        raise ValueError(f"{source}: file is {kind}: {len(content)} bytes, expected {expected_size} for shape {dims}.")
    if sha256 is not None and hashlib.sha256(content).hexdigest() != sha256:
        raise ValueError(f"{source}: checksum mismatch; the file is not the canonical MNIST content.")
    return np.frombuffer(content, np.uint8, offset=header).reshape(dims)


def read_idx(path, shape=None, sha256=None):
    """Read an IDX file (gzipped or not) into a uint8 array."""
    return parse_idx(_read_bytes(path), str(path), shape, sha256)


def write_idx(path, array):
    """Write a uint8 array as an IDX file; gzip it when the name ends in .gz."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = IDX_MAGIC.get(array.ndim, 0x0800 | array.ndim).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
    return Path(path)


def _find(folder, name):
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder}: missing {name} (or {name}.gz); the folder must hold the four MNIST IDX files.")


def load_mnist_idx(folder, verify=True):
    """Load ((x_train, y_train), (x_test, y_test)) from a folder of the four IDX files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: MNIST folder not found; set {MNIST_DIR_ENV} to a folder with the four IDX files."
        )
    arrays = {}
    for key, spec in MNIST_FILES.items():
        # verify=False accepts other IDX data of the same form (a subset, a re-labelled copy): any count, no checksum
        shape = spec.shape if verify else (None,) + spec.shape[1:]
        arrays[key] = read_idx(_find(folder, spec.name), shape, spec.sha256 if verify else None)
    for split in ("train", "test"):
        n_images, n_labels = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_images != n_labels:
            raise ValueError(f"{folder}: {split} has {n_images} images but {n_labels} labels.")
    return (arrays["train_images"], arrays["train_labels"]), (arrays["test_images"], arrays["test_labels"])


def load_mnist(data_dir=None, verify=True):
    """Return MNIST as uint8 ((x_train, y_train), (x_test, y_test)).

    Reads the IDX files in `data_dir` or $LENET_MNIST_DIR; with neither set, falls back
    to keras.datasets.mnist, which downloads once to ~/.keras.
    """
    data_dir = data_dir or os.environ.get(MNIST_DIR_ENV)
    if data_dir:
        return load_mnist_idx(data_dir, verify=verify)
    try:
        import keras

        return keras.datasets.mnist.load_data()
    except Exception as e:  # the download fails in many ways (DNS, proxy, HTTP, truncated file)
        raise FileNotFoundError(
            f"MNIST could not be downloaded ({type(e).__name__}); set {MNIST_DIR_ENV} "
            "(or pass --data-dir) to a folder with the four MNIST IDX files."
        ) from None
