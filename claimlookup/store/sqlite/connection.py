"""Connections to the SQLite file: opening it, the per-process pool (fork and
replaced-file handling), read and write transactions, the schema and its
version, the ``meta`` token, and sqlite3 errors translated into the store's
own exceptions.

Connections come from a small pool (any thread may borrow one); readers in
other processes each have their own. A forked child, or any process whose
file was replaced under it (compared by inode on every operation), starts a
new pool and leaves the old connections alone. SQLite serialises writers;
every connection waits up to ``BUSY_TIMEOUT_S`` for the lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from claimlookup.store.base import StoreCorrupt, StoreError, StoreUnavailable

#: The schema stays next to the store package (``claimlookup/store/schema.sql``,
#: shipped as package data; ``bench/checkthat.py`` hashes it there).
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.sql"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 10.0
MAX_IDLE_CONNECTIONS = 8
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
#: SQLite's own page cache per connection (allocated as used). Small on
#: purpose: the OS page cache already holds the file, and a worker under 16
#: clients keeps up to ``MAX_IDLE_CONNECTIONS`` connections, each of whose
#: caches filled with the pages its queries touched. At 1M sentences a worker
#: answering 8 threads grew by 648 MiB with 32 MiB caches and 376 MiB with 4
#: MiB, with the same search and lookup latency (docs/benchmarks.md, "Scale").
CACHE_KIB = 4 * 1024

_UNAVAILABLE_CODES = {3, 5, 6, 7, 8, 10, 13, 14, 15}  # PERM BUSY LOCKED NOMEM READONLY IOERR FULL CANTOPEN PROTOCOL
_CORRUPT_CODES = {11, 26}  # CORRUPT NOTADB

#: Who owns a pool: (process id, (device, inode) of the file or None).
Owner = tuple[int, tuple[int, int] | None]
#: ``meta.(epoch, generation)``: changes with every write to the file.
Token = tuple[str, int]


# --- errors -------------------------------------------------------------------


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Re-raise sqlite3 errors (and file-system errors) as the store's own."""
    try:
        yield
    except sqlite3.Error as e:
        raise store_error(e, path) from e
    except OSError as e:
        raise StoreUnavailable(f"SQLite store {path}: {e}") from e


def store_error(e: sqlite3.Error, path: Path) -> StoreError:
    code = getattr(e, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    message = f"SQLite store {path}: {e}"
    if primary in _CORRUPT_CODES:
        return StoreCorrupt(message)
    if primary in _UNAVAILABLE_CODES or str(e).startswith("no such table"):
        return StoreUnavailable(message)
    return StoreError(message)


# --- the pool -------------------------------------------------------------------


class ConnectionPool:
    """Connections to one file, for one process. ``connection()`` lends one
    (errors translated to StoreError) and takes it back; ``read()`` and
    ``write()`` wrap it in a transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self.generation = 0
        self.owner: Owner = (os.getpid(), None)
        self._abandoned_generations: set[int] = set()
        self._abandoned: list[sqlite3.Connection] = []

    def connect(self, create: bool = False) -> sqlite3.Connection:
        """A new connection with the store's settings (not pooled)."""
        uri = f"file:{quote(str(self.path.absolute()))}?mode={'rwc' if create else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a pooled connection (errors translated to StoreError)."""
        with translated(self.path):
            owner = (os.getpid(), file_identity(self.path))
            with self._lock:
                if owner != self.owner:
                    self._abandon(owner)
                conn = self._idle.pop() if self._idle else None
                generation = self.generation
            conn = conn or self.connect()
            try:
                yield conn
            finally:
                self._give_back(conn, generation)

    def _abandon(self, owner: Owner) -> None:
        """Forget the pool after a fork or when the file was replaced under us
        (caller holds the lock). The old connections are kept open, never
        closed: closing the last connection to a WAL file checkpoints it and
        unlinks ``<path>-wal`` *by name*, which would now be the parent's or
        the new file's WAL."""
        if self.owner[1] is not None:
            self._abandoned += self._idle
            self._abandoned_generations.add(self.generation)
        self._idle = []
        self.generation += 1
        self.owner = owner

    def _give_back(self, conn: sqlite3.Connection, generation: int) -> None:
        with self._lock:
            if generation in self._abandoned_generations:
                self._abandoned.append(conn)
                return
        if conn.in_transaction:
            conn.rollback()
        with self._lock:
            if generation == self.generation and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction: one consistent snapshot."""
        with self.connection() as conn:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a write transaction that bumps the generation."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close idle connections (borrowed ones close when given back)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self.generation += 1
        for conn in idle:
            conn.close()


def file_identity(path: Path) -> tuple[int, int]:
    """(device, inode) of the database file: it changes when the file is
    replaced. FileNotFoundError (a StoreUnavailable) when it is gone."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


# --- schema and meta ----------------------------------------------------------------


def create_schema(pool: ConnectionPool) -> None:
    """Create the file and tables if missing, switch to WAL. Idempotent."""
    with translated(pool.path):
        pool.path.parent.mkdir(parents=True, exist_ok=True)
        conn = pool.connect(create=True)
        try:
            check_schema_version(conn, pool.path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript("BEGIN IMMEDIATE;\n" + SCHEMA_PATH.read_text("utf-8") + "\nCOMMIT;")
            add_missing_columns(conn)
        finally:
            conn.close()


#: Columns added to a table within its schema version: (table, column, its
#: definition with a default for the rows already there). schema.sql has them
#: for new files; ``add_missing_columns`` adds them to older ones.
ADDED_COLUMNS = (("quantities", "scope", "TEXT NOT NULL DEFAULT 'event'"),)


def add_missing_columns(conn: sqlite3.Connection) -> None:
    """Add the ADDED_COLUMNS a file made before them lacks (one write
    transaction, so concurrent setups add each column once)."""
    conn.execute("BEGIN IMMEDIATE")
    for table, column, definition in ADDED_COLUMNS:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    conn.execute("COMMIT")


def check_schema_version(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse to set up over a file written with another schema."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return  # no meta table: a new file
    if row is not None and row[0] != SCHEMA_VERSION:
        raise StoreError(f"{path} has schema version {row[0]}; this version needs {SCHEMA_VERSION}: "
                         "move the file away and index again")


def token(conn: sqlite3.Connection) -> Token:
    """The file's ``(epoch, generation)`` as of the caller's transaction."""
    values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('epoch', 'generation')").fetchall())
    return str(values["epoch"]), int(values["generation"])
