"""One process per output folder: an exclusive OS lock on OUT/.lock while a command writes there.

The lock is `fcntl.flock`, which the kernel drops when its holder dies, even by SIGKILL, so a
lock is never stale and there is nothing to clean up by hand.
"""

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = ".lock"

# Folders this process already holds: train_and_report holds OUT and calls train and
# evaluate_and_report, which ask for it again and must not wait for themselves.
_held = set()


class FolderInUseError(OSError):
    """Another process holds the lock on an output folder."""


def _read_pid(fd):
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


def _acquire(folder):
    """Lock `folder`/.lock and return its descriptor, or raise FolderInUseError."""
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            holder = f" (pid {pid})" if pid else ""
            raise FolderInUseError(
                f"{folder} is in use by another lenet-keras process{holder}; "
                "wait for it to finish or choose another --out."
            ) from None
        # The previous holder unlinks the file before it lets go: a lock on that orphaned file guards nothing.
        try:
            same_file = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same_file = False
        if same_file:
            with contextlib.suppress(OSError):  # the pid only improves the message; a full disk must not stop us
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


@contextlib.contextmanager
def hold_folder(folder):
    """Hold the exclusive lock on `folder` (created if missing) for the block; re-entrant within a process."""
    folder = Path(folder)
    key = folder.resolve()
    if key in _held:
        yield folder
        return
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    fd = _acquire(folder)
    _held.add(key)
    try:
        yield folder
    finally:
        _held.discard(key)
        (folder / LOCK_NAME).unlink(missing_ok=True)  # while still locked, so no one else's file is removed
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # a command that failed before writing anything leaves no empty folder behind
