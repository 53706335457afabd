"""An in-memory matrix of sentence vectors, searched by brute-force cosine.

No SQL here: the SQLite adapter decides when to load, append or drop rows;
this module keeps the arrays and answers nearest-neighbour queries. Rows are
identified by the store's sentence id; each row also carries its article's
primary key (for filter masks), the article id and the sentence position (to
build ``SentenceRef``s without another query).

Concurrency: queries read an immutable ``VectorSnapshot``; updates build a new
snapshot and publish it with one attribute assignment. Appends write rows
past the end of the previous snapshot into spare capacity, which readers of
the old snapshot never look at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: 1024 x 384 stays under OpenBLAS's single-thread gemv threshold.
GEMV_BLOCK_ROWS = 1024


@dataclass(frozen=True, slots=True)
class VectorRows:
    """Rows to add: parallel sequences plus an (n, dim) float32 matrix."""

    sentence_ids: np.ndarray  # int64
    article_pks: np.ndarray  # int64
    article_ids: np.ndarray  # object (str)
    positions: np.ndarray  # int32
    matrix: np.ndarray  # float32 (n, dim)

    @staticmethod
    def empty(dim: int = 0) -> VectorRows:
        return VectorRows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, object),
                          np.zeros(0, np.int32), np.zeros((0, dim), np.float32))

    def __len__(self) -> int:
        return len(self.sentence_ids)


@dataclass(frozen=True, slots=True)
class VectorSnapshot:
    """A consistent view: the first ``size`` rows of the buffers are valid."""

    token: tuple[str, int]  # (epoch, generation) of the store it mirrors
    size: int
    buffer: VectorRows  # capacity >= size
    live: np.ndarray  # bool, len == size; False = deleted since loaded
    #: Rows with sentence ids up to ``floor`` are not held here (an
    #: approximate index holds them; see ``claimlookup.store.ann``).
    floor: int = 0

    @property
    def max_sentence_id(self) -> int:
        return int(self.buffer.sentence_ids[self.size - 1]) if self.size else self.floor

    @property
    def live_count(self) -> int:
        return int(self.live.sum())

    def search(self, queries: np.ndarray, articles: ArticleMask,
               limit: int) -> list[list[tuple[str, int, float]]]:
        """For each query row, up to ``limit`` (article_id, position, cosine),
        best first, among live rows whose article passes ``articles``."""
        queries = np.asarray(queries, dtype=np.float32)
        queries = queries.reshape(-1, queries.shape[-1])
        if self.size and queries.shape[1] != self.buffer.matrix.shape[1]:
            raise ValueError(f"query vectors have {queries.shape[1]} dimensions; "
                             f"the store holds {self.buffer.matrix.shape[1]}")
        mask = self._mask(articles)
        allowed = self.size if mask is None else int(mask.sum())
        if limit <= 0 or allowed == 0:
            return [[] for _ in range(len(queries))]
        if mask is not None and allowed < self.size // 4:
            rows = np.flatnonzero(mask)  # few rows: score only those
            scores = cosines(queries, self.buffer.matrix[rows])
        else:
            rows = None
            scores = cosines(queries, self.buffer.matrix[:self.size])
            if mask is not None:
                scores[:, ~mask] = -np.inf
        return [self._top(row_scores, rows, min(limit, allowed)) for row_scores in scores]

    def _mask(self, articles: ArticleMask) -> np.ndarray | None:
        """Rows to consider, or None for all of them."""
        mask = None if bool(self.live.all()) else self.live
        pks = self.buffer.article_pks[:self.size]
        if articles.allowed is not None:
            allowed = np.isin(pks, articles.allowed)
            mask = allowed if mask is None else mask & allowed
        if articles.excluded is not None and len(articles.excluded):
            kept = ~np.isin(pks, articles.excluded)
            mask = kept if mask is None else mask & kept
        return mask

    def _top(self, scores: np.ndarray, rows: np.ndarray | None, k: int) -> list[tuple[str, int, float]]:
        # Best first, ties by row (rows are in sentence id order, as the
        # approximate index ranks them): the same sentences come first
        # whatever ``limit`` and whichever other articles are left out.
        # Masked rows (-inf) and NaN scores (a vector that is not finite) are never hits.
        best = None
        if k < len(scores):  # one partition and one pass; NaN sorts last, so into the top k
            at = len(scores) - k
            top = np.partition(scores, at)
            if np.isfinite(top[at]) and not np.isnan(top[at:]).any():
                best = np.flatnonzero(scores >= top[at])
        if best is None:  # rare: NaN rows, or fewer than k finite scores
            best = np.flatnonzero(np.isfinite(scores))
            if k < len(best):
                kth = np.partition(scores[best], len(best) - k)[len(best) - k]  # the k-th highest
                best = best[scores[best] >= kth]
        best = best[np.lexsort((best, -scores[best]))][:k]
        index = best if rows is None else rows[best]
        ids, positions = self.buffer.article_ids[index], self.buffer.positions[index]
        return [(str(a), int(p), float(s)) for a, p, s in zip(ids, positions, scores[best], strict=True)]


@dataclass(frozen=True, slots=True)
class ArticleMask:
    """Which articles' sentences a vector search may return: ``allowed``
    (None = every article) minus ``excluded`` (article pks)."""

    allowed: np.ndarray | None = None
    excluded: np.ndarray | None = None


def cosines(queries: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``queries @ matrix.T`` as (q, n) float32.

    One query goes through BLAS in blocks of ``GEMV_BLOCK_ROWS`` rows: OpenBLAS
    runs gemv calls that small on the calling thread, and its own threads
    were 2-5x slower on a busy 2-core machine (gunicorn workers, the embedder).
    Several queries are one matrix product, where BLAS threads pay off."""
    if len(queries) != 1:
        return queries @ matrix.T
    out = np.empty((1, len(matrix)), dtype=np.float32)
    query = queries[0]
    for begin in range(0, len(matrix), GEMV_BLOCK_ROWS):
        np.matmul(matrix[begin:begin + GEMV_BLOCK_ROWS], query, out=out[0, begin:begin + GEMV_BLOCK_ROWS])
    return out


def empty_snapshot(token: tuple[str, int] = ("", -1)) -> VectorSnapshot:
    return VectorSnapshot(token, 0, VectorRows.empty(), np.zeros(0, bool))


def load(token: tuple[str, int], rows: VectorRows, floor: int = 0) -> VectorSnapshot:
    """A snapshot holding ``rows`` (sorted by sentence id, all above
    ``floor``), with spare capacity so that the next few appends copy nothing."""
    capacity = len(rows) + max(1024, len(rows) // 4)
    buffer = _grow(rows, len(rows), capacity, rows.matrix.shape[1])
    return VectorSnapshot(token, len(rows), buffer, np.ones(len(rows), bool), floor)


def load_batches(token: tuple[str, int], expected: int, batches: Iterable[VectorRows],
                 floor: int = 0) -> VectorSnapshot:
    """``load`` of the concatenated ``batches`` (in sentence id order, all
    above ``floor``), written into arrays allocated once for ``expected``
    rows and the same spare capacity, so that the rows are never held twice.
    More rows than expected still load (the arrays grow); the snapshot is
    the same as ``load`` gives."""
    capacity = expected + max(1024, expected // 4)
    buffer: VectorRows | None = None
    size = 0
    for rows in batches:
        if not len(rows):
            continue
        if buffer is None:
            buffer = _grow(rows, 0, max(capacity, len(rows)), rows.matrix.shape[1])
        buffer = _append(buffer, size, rows)
        size += len(rows)
    if buffer is None:
        return load(token, VectorRows.empty(), floor)
    return VectorSnapshot(token, size, buffer, np.ones(size, bool), floor)


def update(snapshot: VectorSnapshot, token: tuple[str, int], present_articles: np.ndarray,
           new_rows: VectorRows) -> VectorSnapshot:
    """Mark rows whose article pk is not in ``present_articles`` as deleted
    and append ``new_rows`` (sentence ids above every existing one). Compacts
    when more than a quarter of the rows are dead."""
    live = snapshot.live & np.isin(snapshot.buffer.article_pks[:snapshot.size], present_articles)
    size = snapshot.size
    if size and live.sum() < 0.75 * size:
        keep = np.flatnonzero(live)
        buffer, size = _take(snapshot.buffer, keep), len(keep)
        live = np.ones(size, bool)
    else:
        buffer = snapshot.buffer
    if len(new_rows):
        buffer = _append(buffer, size, new_rows)
        live = np.concatenate([live, np.ones(len(new_rows), bool)])
        size += len(new_rows)
    return VectorSnapshot(token, size, buffer, live, snapshot.floor)


def _take(buffer: VectorRows, index: np.ndarray) -> VectorRows:
    return VectorRows(buffer.sentence_ids[index], buffer.article_pks[index], buffer.article_ids[index],
                      buffer.positions[index], np.ascontiguousarray(buffer.matrix[index]))


def _append(buffer: VectorRows, size: int, rows: VectorRows) -> VectorRows:
    """Write ``rows`` after the first ``size`` rows, growing capacity x2 when full."""
    needed = size + len(rows)
    if buffer.matrix.shape[0] < needed or buffer.matrix.shape[1] != rows.matrix.shape[1]:
        capacity = max(needed, 2 * size, 1024)
        buffer = _grow(buffer, size, capacity, rows.matrix.shape[1])
    for name in ("sentence_ids", "article_pks", "article_ids", "positions", "matrix"):
        getattr(buffer, name)[size:needed] = getattr(rows, name)
    return buffer


def _grow(buffer: VectorRows, size: int, capacity: int, dim: int) -> VectorRows:
    grown = VectorRows(np.zeros(capacity, np.int64), np.zeros(capacity, np.int64),
                       np.empty(capacity, object), np.zeros(capacity, np.int32),
                       np.zeros((capacity, dim), np.float32))
    for name in ("sentence_ids", "article_pks", "article_ids", "positions", "matrix"):
        getattr(grown, name)[:size] = getattr(buffer, name)[:size]
    return grown


def as_ids(values: Sequence[int]) -> np.ndarray:
    return np.fromiter(values, dtype=np.int64)
