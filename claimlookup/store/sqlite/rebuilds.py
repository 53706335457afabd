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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claimlookup.store.lockfiles import locked_temp, names_open_file

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
    """A new lock file, locked for the rebuild's whole life."""
    return locked_temp(live.parent, f".{live.name}.rebuild-", ".lock")


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
        if not names_open_file(fd, str(lock)):
            return False  # removed and recreated meanwhile
        _remove_database(database)
        lock.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def _remove_database(database: Path) -> None:
    for suffix in _DATABASE_SUFFIXES:
        Path(str(database) + suffix).unlink(missing_ok=True)


def _untouched_for(database: Path, seconds: float) -> bool:
    newest = 0.0
    for suffix in _DATABASE_SUFFIXES:
        try:
            newest = max(newest, os.stat(str(database) + suffix).st_mtime)
        except FileNotFoundError:
            continue
    return time.time() - newest >= seconds
