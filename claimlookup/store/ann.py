"""An approximate nearest-neighbour index of sentence vectors, kept in a
sidecar file next to the store (``faiss``: an HNSW graph over 8-bit
scalar-quantised vectors, ``IndexHNSWSQ``, with sentence ids as labels).

No SQL here: the SQLite adapter decides when to build, open or ignore the
file (``claimlookup.store.sqlite.neighbours``); this module writes it, checks
it and searches it. Keys are the store's sentence ids. The index only
proposes candidates: the adapter scores them again exactly from the stored
float32 vectors, so the scores are those of exact search.

File layout: the faiss index as ``faiss.write_index`` writes it, then a
trailer of ``TRAILER_SIZE`` bytes (``MAGIC`` and a JSON object,
space-padded) that says which store state the index mirrors (``IndexInfo``)
and holds the CRC-32 of everything before it. Readers check the trailer and
the checksum, then let faiss map the file in place (``IO_FLAG_MMAP_IFC``:
the vectors and the graph stay in the file's pages), so every process that
opens the same file shares one copy in the OS page cache instead of holding
its own.

faiss runs its loops on OpenMP threads: this module sets them to one when it
is imported (a request uses one core; gunicorn's workers and threads are the
parallelism, and a process that never started an OpenMP thread forks
safely). ``build`` uses more only when asked (``threads``), for its
duration.

Writes are atomic: the index is built into ``.<name>-build-XXXX.tmp`` in the
same directory, flushed, then renamed over ``<name>``. The builder holds an
exclusive ``flock`` on the temp file for its whole life, so a temp file whose
lock can be taken belongs to a killed build (``remove_dead_builds``).
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from claimlookup.store.lockfiles import locked_temp, names_open_file

faiss.omp_set_num_threads(1)

#: Below this many indexed vectors the store searches exactly in memory and
#: builds no index (read at call time: tests lower it).
ANN_MIN_VECTORS = 200_000
#: HNSW parameters (docs/store-sqlite.md, "Approximate index"): neighbours
#: per node, candidate list while building and while searching (at least
#: the number of results asked for).
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 1024
SCALAR_KIND = "sq8"
#: Vectors the 8-bit quantiser learns its per-dimension ranges from, taken
#: evenly over the store.
TRAINING_VECTORS = 50_000

MAGIC = b"claimlookup-ann\n"
FORMAT_VERSION = 1
TRAILER_SIZE = 4096
_CRC_CHUNK = 64 * 1024 * 1024

#: (device, inode, size, mtime in ns) of a file: changes when it is replaced.
FileIdentity = tuple[int, int, int, int]


class IndexUnusable(Exception):
    """The sidecar is missing, unreadable, corrupt or of another format: it
    is never trusted (the store searches exactly meanwhile)."""


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What an index file mirrors: the store's ``(epoch, generation)`` when
    the build read it, and every sentence with a vector and an id up to
    ``max_sentence_id`` at that moment (``count`` of them)."""

    epoch: str
    generation: int
    max_sentence_id: int
    count: int
    dimensions: int
    scalar_kind: str
    connectivity: int
    payload_size: int = 0
    crc32: int = 0
    format: int = FORMAT_VERSION

    def covers(self, token: tuple[str, int]) -> bool:
        """Whether the store at ``token`` can use this index: same file
        lineage (epoch) and not older than the build. Later writes of the
        same epoch only delete indexed sentences or add ones with higher ids
        (sentence ids are never reused), which the search handles."""
        return token[0] == self.epoch and token[1] >= self.generation


class NeighbourIndex:
    """An index file opened read-only, mapped in place. ``search`` may be
    called from several threads."""

    def __init__(self, path: Path, identity: FileIdentity, info: IndexInfo) -> None:
        self.path = path
        self.identity = identity
        self.info = info
        try:
            self._index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as e:  # faiss refusing the payload
            raise IndexUnusable(f"{path}: {e}") from e
        if self._index.ntotal != info.count or self._index.d != info.dimensions:
            raise IndexUnusable(f"{path}: the index does not match its trailer")

    def __repr__(self) -> str:
        return f"NeighbourIndex({str(self.path)!r}, {self.info.count} vectors)"

    def search(self, queries: np.ndarray, count: int) -> list[np.ndarray]:
        """For each query row, the keys (sentence ids) of about the ``count``
        nearest vectors, nearest first (approximate)."""
        count = min(count, self.info.count)
        parameters = faiss.SearchParametersHNSW(efSearch=max(EXPANSION_SEARCH, count))  # type: ignore[attr-defined]
        _, keys = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), count, params=parameters)
        return [row[row >= 0] for row in keys]


def file_identity(path: Path) -> FileIdentity | None:
    """The file's identity, or None when there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def open_index(path: Path) -> NeighbourIndex:
    """Open and check the index at ``path`` (``read_info``), then let faiss
    read it. IndexUnusable when any of it fails (the checksum comes first:
    faiss trusts what it reads)."""
    identity, info = read_info(path)
    return NeighbourIndex(path, identity, info)


def read_info(path: Path) -> tuple[FileIdentity, IndexInfo]:
    """The file's identity and trailer, once its size and the CRC-32 of its
    whole payload are checked; IndexUnusable otherwise."""
    try:
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            if stat.st_size <= TRAILER_SIZE:
                raise IndexUnusable(f"{path}: too short to be an index")
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                info = _read_trailer(path, mapped)
    except OSError as e:
        raise IndexUnusable(f"{path}: {e}") from e
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns), info


def _read_trailer(path: Path, mapped: mmap.mmap) -> IndexInfo:
    trailer = mapped[-TRAILER_SIZE:]
    if not trailer.startswith(MAGIC):
        raise IndexUnusable(f"{path}: no claimlookup index trailer")
    try:
        fields = json.loads(trailer[len(MAGIC):].decode("utf-8"))
        info = IndexInfo(**fields)
    except (ValueError, TypeError) as e:
        raise IndexUnusable(f"{path}: unreadable trailer: {e}") from e
    if info.format != FORMAT_VERSION:
        raise IndexUnusable(f"{path}: index format {info.format}; this version reads {FORMAT_VERSION}")
    if info.payload_size != len(mapped) - TRAILER_SIZE:
        raise IndexUnusable(f"{path}: {len(mapped)} bytes; the trailer says {info.payload_size + TRAILER_SIZE}")
    if _crc32(mapped, info.payload_size) != info.crc32:
        raise IndexUnusable(f"{path}: checksum mismatch (a damaged file)")
    return info


def _crc32(mapped: mmap.mmap, size: int) -> int:
    crc = 0
    with memoryview(mapped) as view:
        for begin in range(0, size, _CRC_CHUNK):
            crc = zlib.crc32(view[begin:min(size, begin + _CRC_CHUNK)], crc)
    return crc


# --- building ---------------------------------------------------------------------


def build(path: Path, token: tuple[str, int], training: np.ndarray,
          batches: Iterable[tuple[np.ndarray, np.ndarray]], threads: int = 1, mode: int = 0o644) -> IndexInfo:
    """Index ``batches`` of (sentence ids, float32 vectors) in increasing id
    order into a temp file next to ``path``, then rename it over ``path``
    (atomic: a kill leaves the previous file or none). ``token`` is the
    store's state the batches were read at; ``training``, a sample of the
    vectors for the quantiser; ``threads``, OpenMP threads while building;
    ``mode``, the file's permissions (the store passes its database's)."""
    fd, temp = _locked_temp(path)
    try:
        os.fchmod(fd, mode)  # mkstemp made it 0600
        faiss.omp_set_num_threads(threads)
        try:
            index, max_id = _fill(training, batches)
        finally:
            faiss.omp_set_num_threads(1)
        faiss.write_index(index, temp)
        info = _append_trailer(fd, token, max_id, index)
        os.replace(temp, path)
        _sync_directory(path.parent)
        return info
    finally:
        Path(temp).unlink(missing_ok=True)
        os.close(fd)


def _fill(training: np.ndarray, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> tuple[faiss.Index, int]:
    if not len(training):
        raise ValueError("no vectors to index")
    graph = faiss.IndexHNSWSQ(training.shape[1], faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]
                              CONNECTIVITY, faiss.METRIC_INNER_PRODUCT)  # unit vectors: inner product = cosine
    graph.hnsw.efConstruction = EXPANSION_ADD
    graph.train(np.ascontiguousarray(training, dtype=np.float32))
    index = faiss.IndexIDMap(graph)  # keeps a reference to graph
    max_id = 0
    for ids, matrix in batches:
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(matrix, dtype=np.float32), np.asarray(ids, dtype=np.int64))
            max_id = max(max_id, int(ids[-1]))
    return index, max_id


def _append_trailer(fd: int, token: tuple[str, int], max_id: int, index: faiss.Index) -> IndexInfo:
    """Append the trailer to the written index (same inode as ``fd``) and flush."""
    payload_size = os.fstat(fd).st_size
    with mmap.mmap(fd, payload_size, access=mmap.ACCESS_READ) as mapped:
        crc = _crc32(mapped, payload_size)
    info = IndexInfo(epoch=token[0], generation=token[1], max_sentence_id=max_id, count=index.ntotal,
                     dimensions=index.d, scalar_kind=SCALAR_KIND, connectivity=CONNECTIVITY,
                     payload_size=payload_size, crc32=crc)
    trailer = MAGIC + json.dumps(asdict(info)).encode("utf-8")
    if len(trailer) > TRAILER_SIZE:
        raise ValueError("index trailer too long")
    os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, trailer.ljust(TRAILER_SIZE, b" "))
    os.fsync(fd)
    return info


def _locked_temp(path: Path) -> tuple[int, str]:
    """A new temp file next to ``path``, locked for the build's whole life."""
    return locked_temp(path.parent, f".{path.name}-build-", ".tmp")


def remove_dead_builds(path: Path) -> list[Path]:
    """Remove the temp files of builds of ``path`` whose process is gone
    (their lock can be taken); return them. A build in progress, in this
    process or another, keeps its lock and its file."""
    removed = []
    for temp in sorted(path.parent.glob(f".{path.name}-build-*.tmp")):
        try:
            fd = os.open(temp, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if names_open_file(fd, str(temp)):
                temp.unlink(missing_ok=True)
                removed.append(temp)
        except BlockingIOError:
            continue  # a live build
        finally:
            os.close(fd)
    return removed


def remove(path: Path) -> bool:
    """Delete the index file; False when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
