import gzip
import hashlib
import shutil

import numpy as np
import pytest

from lenet_keras.idx import MNIST_FILES, load_mnist, load_mnist_idx, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_write_then_read_round_trip(tmp_path, name):
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / name, images)
    np.testing.assert_array_equal(read_idx(path, shape=(7, 28, 28)), images)
    labels = np.arange(7, dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / f"l{name}", labels), shape=(7,)), labels)


def test_real_mnist_loads_with_checksums(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.shape == (60000,) and y_test.shape == (10000,)
    assert set(np.unique(y_test)) == set(range(10))
    assert np.bincount(y_train).min() > 5000  # every digit well represented


def test_env_variable_names_the_folder(mnist_dir, monkeypatch):
    monkeypatch.setenv("LENET_MNIST_DIR", mnist_dir)
    (_, y_train), _ = load_mnist()
    assert len(y_train) == 60000


def _header(magic, *dims):
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


SPEC = (3, 28, 28)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "truncated"),
        (_header(0x0803, 3, 28, 28) + bytes(100), "truncated"),
        (_header(0x0803, 3, 28, 28) + bytes(3 * 784 + 1), "too long"),
        (_header(0x0801, 3, 28, 28) + bytes(3 * 784), "wrong magic number"),
        (_header(0x12345678, 3, 28, 28) + bytes(3 * 784), "wrong magic number"),
        (_header(0x0803, 3, 32, 32) + bytes(3 * 1024), "wrong dimensions"),
        (_header(0x0803, 4, 28, 28) + bytes(4 * 784), "wrong item count"),
        (_header(0x0803, 3, 28), "truncated inside its header"),
    ],
)
def test_each_corruption_gives_its_error(content, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(content, "f.idx", shape=SPEC)


def test_checksum_mismatch_is_reported():
    content = _header(0x0803, *SPEC) + bytes(3 * 784)
    assert parse_idx(content, shape=SPEC, sha256=hashlib.sha256(content).hexdigest()).shape == SPEC
    with pytest.raises(ValueError, match="checksum mismatch"):
        parse_idx(content, "f.idx", shape=SPEC, sha256="0" * 64)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"x" * 1000)[:-20])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: cannot read"):
        read_idx(path)


def _copy_mnist(src, dst):
    for spec in MNIST_FILES.values():
        shutil.copy(f"{src}/{spec.name}.gz", dst / f"{spec.name}.gz")


def test_tampered_mnist_file_fails_checksum(mnist_dir, tmp_path):
    _copy_mnist(mnist_dir, tmp_path)
    labels = read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz").copy()
    labels[0] = (labels[0] + 1) % 10
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        load_mnist_idx(tmp_path)


def test_uncompressed_files_are_accepted(mnist_dir, tmp_path):
    _copy_mnist(mnist_dir, tmp_path)
    gz = tmp_path / "t10k-labels-idx1-ubyte.gz"
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    (_, _), (_, y_test) = load_mnist_idx(tmp_path)
    assert len(y_test) == 10000


def test_image_and_label_counts_must_match(tmp_path):
    # Without checksums (verify=False) the count check is what catches a mismatched pair.
    for key, spec in MNIST_FILES.items():
        n = 5 if key == "train_labels" else 6
        write_idx(tmp_path / f"{spec.name}.gz", np.zeros((n,) + spec.shape[1:], np.uint8))
    with pytest.raises(ValueError, match="train has 6 images but 5 labels"):
        load_mnist_idx(tmp_path, verify=False)


@pytest.mark.parametrize("setup", ["missing", "empty"])
def test_missing_or_empty_folder(tmp_path, setup):
    folder = tmp_path / "nowhere" if setup == "missing" else tmp_path
    with pytest.raises(FileNotFoundError, match="LENET_MNIST_DIR" if setup == "missing" else "missing train-images"):
        load_mnist(folder)


def test_failed_download_says_how_to_point_at_a_copy(monkeypatch):
    import keras

    def offline():
        raise OSError("no route to host")

    monkeypatch.delenv("LENET_MNIST_DIR", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(FileNotFoundError, match="set LENET_MNIST_DIR"):
        load_mnist()
