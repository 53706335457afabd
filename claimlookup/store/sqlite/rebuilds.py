"""The temp files of ``rebuild()`` and what is left of killed rebuilds.

A rebuild writes ``.<name>.rebuild-XXXX.db`` (and its ``-wal``/``-shm``) next
to the live file. Its owner holds an exclusive ``flock`` on
``.<name>.rebuild-XXXX.lock`` for the rebuild's whole life: the kernel drops
the lock when the process ends, however it ends (``kill -9`` included). So a
temp file whose lock can be taken belongs to a dead rebuild and is removed
(``remove_dead``, run by every ``setup()``), while a live rebuild's files are
left alone, in this process or another. The lock file is created before the
database and removed after it, so a database without a lock file can only
come from a version before lock files: it is removed once it has not been
written for ``ORPHAN_AGE_S``.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: A rebuild file without a lock file (written before lock files existed) is
#: removed once untouched for this long.
ORPHAN_AGE_S = 3600.0
#: The database, SQLite's files beside it, and its approximate vector index.
_DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".ann")


@contextmanager
def temp_database(live: Path) -> Iterator[Path]:
    """A fresh temp database path next to ``live``, locked as this process's
    rebuild until the block ends; its files are removed then."""
    fd, lock = _locked_lock_file(live)
    database = Path(lock[: -len(".lock")] + ".db")
    try:
        yield database
    finally:
        _remove_database(database)
        Path(lock).unlink(missing_ok=True)
        os.close(fd)


def temp_pattern(live: Path) -> Path:
    """The temp databases of rebuilds of ``live``, as a glob pattern."""
    return live.parent / f".{live.name}.rebuild-*.db"


def remove_dead(live: Path) -> list[Path]:
    """Remove the temp files of rebuilds of ``live`` whose process is gone;
    return the databases removed."""
    removed = []
    for lock in sorted(live.parent.glob(f".{live.name}.rebuild-*.lock")):
        database = Path(str(lock)[: -len(".lock")] + ".db")
        if _remove_if_dead(lock, database):
            removed.append(database)
    for database in sorted(live.parent.glob(f".{live.name}.rebuild-*.db")):
        lock = Path(str(database)[: -len(".db")] + ".lock")
        if not lock.exists() and _untouched_for(database, ORPHAN_AGE_S):
            _remove_database(database)
            removed.append(database)
    return removed


def _locked_lock_file(live: Path) -> tuple[int, str]:
    """Create and lock a new lock file. Between its creation and the lock,
    ``remove_dead`` in another process may take and delete it: then try again."""
    while True:
        fd, name = tempfile.mkstemp(prefix=f".{live.name}.rebuild-", suffix=".lock", dir=live.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _is_file(fd, name):
            return fd, name
        os.close(fd)


def _remove_if_dead(lock: Path, database: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False  # its owner finished meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live rebuild
        if not _is_file(fd, str(lock)):
            return False  # removed and recreated meanwhile
        _remove_database(database)
        lock.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def _remove_database(database: Path) -> None:
    for suffix in _DATABASE_SUFFIXES:
        Path(str(database) + suffix).unlink(missing_ok=True)


def _is_file(fd: int, name: str) -> bool:
    """Whether ``name`` still names the file open as ``fd``."""
    try:
        current = os.stat(name)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)


def _untouched_for(database: Path, seconds: float) -> bool:
    newest = 0.0
    for suffix in _DATABASE_SUFFIXES:
        try:
            newest = max(newest, os.stat(str(database) + suffix).st_mtime)
        except FileNotFoundError:
            continue
    return time.time() - newest >= seconds
