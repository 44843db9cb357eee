"""Atomic file writes: a crash, an error or a full disk never leaves a half-written file in place."""

import contextlib
import errno
import os
import tempfile
from pathlib import Path


class DiskFullError(OSError):
    """A file could not be written because the disk is full."""

    def __str__(self):
        return self.strerror  # the sentence alone, without OSError's "[Errno 28]" prefix


def _is_disk_full(error):
    # TensorFlow and h5py report a full disk in their own exception types, with the OS message inside.
    return getattr(error, "errno", None) == errno.ENOSPC or "no space left on device" in str(error).lower()


@contextlib.contextmanager
def naming_full_disk(path):
    """Turn a full disk while the block writes `path` into one sentence that names the file."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as e:
        if not _is_disk_full(e):
            raise
        raise DiskFullError(
            errno.ENOSPC, f"could not write {path}: no space left on device; the previous version is left in place."
        ) from None


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    If the block writes nothing (the file stays empty), `path` is left as it was.
    """
    path = Path(path)
    with naming_full_disk(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # The whole suffix (".weights.h5", not ".h5"): writers such as Keras's save_weights check it.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix="".join(path.suffixes), dir=path.parent)
        os.close(fd)
        try:
            yield Path(tmp)
            if os.path.getsize(tmp) > 0:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
                os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def remove_stale_temporaries(folder, name):
    """Delete temporaries of `name` that a killed process left in `folder` (atomic_path's dotted files)."""
    for stale in Path(folder).glob(f".{name}.*"):
        stale.unlink(missing_ok=True)
