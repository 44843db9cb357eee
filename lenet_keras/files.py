"""Atomic file writes: a crash or an error never leaves a half-written file in place."""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed.

    If the block writes nothing (the file stays empty), `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
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
