"""Locked temp files: how a process claims a file that a crash may leave
behind, so that another process can tell a live owner (its ``flock`` is
held) from a dead one (the lock can be taken). Used by SQLite rebuilds
(``sqlite/rebuilds.py``) and by builds of the approximate index (``ann.py``)."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path


def locked_temp(directory: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """Create a temp file in ``directory`` and hold an exclusive lock on it;
    return its descriptor and name. Between its creation and the lock,
    another process cleaning up dead files may take the lock and delete it:
    then try again with a new file."""
    while True:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if names_open_file(fd, name):
            return fd, name
        os.close(fd)


def names_open_file(fd: int, name: str) -> bool:
    """Whether ``name`` still names the file open as ``fd`` (not deleted, not
    replaced by another file of that name)."""
    try:
        current = os.stat(name)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)
