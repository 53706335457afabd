"""The database side of the approximate vector index (``claimlookup.store.ann``
holds the file): building it from ``sentence_vectors``, and a vector search
that merges the index's candidates, re-scored exactly from the stored
float32 vectors, with an exact search of the rows written since the build.

Why it is consistent (docs/store-sqlite.md, "Approximate index"): an index
file records the ``(epoch, generation)`` it was built at and the highest
sentence id it holds. Within one epoch sentence ids are never reused and
sentences are only ever deleted, so at any later generation the indexed
rows still present are exactly the present rows with ids up to that id, and
every other row has a higher id: the tail, which the process keeps in its
in-memory ``VectorSnapshot`` and searches exactly. Index candidates are
looked up in the caller's read transaction: a deleted row is simply not
found, and filters apply to the article pk found there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np

from claimlookup.store import ann
from claimlookup.store import vectors as vector_index
from claimlookup.store.sqlite.candidates import select_vector_rows
from claimlookup.store.sqlite.connection import Token, token

#: Index candidates looked up per wanted result (then re-scored exactly).
OVERSAMPLE = 4
#: Candidates per query at most before a query that still lacks results
#: (restrictive filters, many deleted rows) is answered exactly from SQL.
MAX_INDEX_CANDIDATES = 4096
#: A positive filter expected to leave at most this many indexed rows is
#: answered exactly from SQL, without the index.
FILTERED_EXACT_ROWS = 20_000
#: Rows read per transaction while building (and per batch of an exact
#: search from SQL without a positive filter).
BUILD_BATCH_ROWS = 20_000
#: Articles per batch of an exact search from SQL with a positive filter.
FILTERED_ARTICLES_PER_BATCH = 100

#: A hit: (score, sentence id, article id, position).
Hit = tuple[float, int, str, int]


def sidecar_path(database: Path) -> Path:
    """Where the index of the store at ``database`` lives: ``<database>.ann``."""
    return database.with_name(database.name + ".ann")


# --- building ----------------------------------------------------------------


def build(read: Callable[[], AbstractContextManager[sqlite3.Connection]], path: Path,
          threads: int = 1, mode: int = 0o644) -> ann.IndexInfo:
    """Build the index of every stored vector into ``path`` (atomically),
    with ``threads`` OpenMP threads and permissions ``mode``. The quantiser
    learns from up to ``ann.TRAINING_VECTORS`` vectors spread evenly over
    the sentence ids.

    The token and the highest sentence id are read first; the rows up to
    that id are then read in batches, each in its own short transaction (a
    build of minutes must not hold one snapshot and stall WAL checkpoints).
    A row deleted meanwhile may be left out, which is harmless; no row added
    meanwhile can have an id that low."""
    with read() as conn:
        built_at = token(conn)
        top = conn.execute("SELECT coalesce(max(sentence), 0) FROM sentence_vectors").fetchone()[0]
        sample = np.unique(np.linspace(1, top, num=ann.TRAINING_VECTORS, dtype=np.int64))
        training = select_vector_rows(conn, "v.sentence IN (SELECT value FROM json_each(?))",
                                      [json.dumps(sample.tolist())]).matrix
    return ann.build(path, built_at, training, _batches(read, top), threads=threads, mode=mode)


def _batches(read: Callable[[], AbstractContextManager[sqlite3.Connection]],
             top: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    after = 0
    while after < top:
        with read() as conn:
            rows = select_vector_rows(conn, "v.sentence > ? AND v.sentence <= ? ORDER BY v.sentence LIMIT ?",
                                      [after, top, BUILD_BATCH_ROWS])
        if not len(rows):
            return
        yield rows.sentence_ids, rows.matrix
        after = int(rows.sentence_ids[-1])


def staleness(conn: sqlite3.Connection, info: ann.IndexInfo) -> tuple[int, int]:
    """(rows written since the build, indexed rows deleted since), as of the
    caller's transaction (which must be at a token ``info`` covers)."""
    tail = conn.execute("SELECT count(*) FROM sentence_vectors WHERE sentence > ?",
                        (info.max_sentence_id,)).fetchone()[0]
    kept = conn.execute("SELECT count(*) FROM sentence_vectors WHERE sentence <= ?",
                        (info.max_sentence_id,)).fetchone()[0]
    return tail, info.count - kept


def live_vectors(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]


# --- searching ----------------------------------------------------------------------


def search(conn: sqlite3.Connection, index: ann.NeighbourIndex, tail: vector_index.VectorSnapshot,
           queries: np.ndarray, articles: vector_index.ArticleMask,
           limit: int) -> list[list[tuple[str, int, float]]]:
    """``VectorSnapshot.search`` over the indexed rows plus ``tail`` (the rows
    above the index's highest sentence id): for each query row, up to
    ``limit`` (article id, position, cosine), best first. The cosines are
    exact; which rows are found is approximate."""
    if limit <= 0:
        return [[] for _ in range(len(queries))]
    indexed = _indexed_hits(conn, index, queries, articles, limit)
    tails = tail.search(queries, articles, limit)
    return [_merge(hits, tail_hits, limit) for hits, tail_hits in zip(indexed, tails, strict=True)]


def _merge(indexed: list[Hit], tail: list[tuple[str, int, float]], limit: int) -> list[tuple[str, int, float]]:
    """Best first; ties in sentence id order, as exact search orders them
    (every tail id is above every indexed one)."""
    ranked = sorted([(-score, 0, sid, aid, pos) for score, sid, aid, pos in indexed]
                    + [(-score, 1, rank, aid, pos) for rank, (aid, pos, score) in enumerate(tail)])
    return [(aid, pos, -negative) for negative, _, _, aid, pos in ranked[:limit]]


def _indexed_hits(conn: sqlite3.Connection, index: ann.NeighbourIndex, queries: np.ndarray,
                  articles: vector_index.ArticleMask, limit: int) -> list[list[Hit]]:
    """The ``limit`` best indexed rows per query that pass ``articles``."""
    share = _allowed_share(conn, articles)
    if share * index.info.count <= FILTERED_EXACT_ROWS:
        return _exact_hits(conn, index.info.max_sentence_id, queries, articles, limit)
    wanted = min(index.info.count, MAX_INDEX_CANDIDATES, int(limit * OVERSAMPLE / share))
    found: list[list[Hit] | None] = [None] * len(queries)
    pending = list(range(len(queries)))
    while pending:
        keys = index.search(queries[pending], wanted)
        rows = _rows_by_id(conn, np.unique(np.concatenate(keys)))
        short = []
        for query, query_keys in zip(pending, keys, strict=True):
            hits = _rescored(queries[query], query_keys, rows, articles)
            if len(hits) >= limit or len(query_keys) >= index.info.count:
                found[query] = hits[:limit]
            else:
                short.append(query)
        if short and wanted >= min(index.info.count, MAX_INDEX_CANDIDATES):  # asked for all it may give
            exact = _exact_hits(conn, index.info.max_sentence_id, queries[short], articles, limit)
            for query, hits in zip(short, exact, strict=True):
                found[query] = hits
            short = []
        pending, wanted = short, min(index.info.count, MAX_INDEX_CANDIDATES, wanted * 4)
    return [hits or [] for hits in found]


def _allowed_share(conn: sqlite3.Connection, articles: vector_index.ArticleMask) -> float:
    """The share of articles a positive filter allows (1.0 without one), an
    estimate of the share of rows it allows."""
    if articles.allowed is None:
        return 1.0
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    return len(articles.allowed) / total if total else 0.0


class _Rows:
    """Stored rows by sentence id: article pk, article id, position, vector."""

    def __init__(self, rows: vector_index.VectorRows) -> None:
        self.rows = rows
        self.row_of = {int(sid): i for i, sid in enumerate(rows.sentence_ids)}


def _rows_by_id(conn: sqlite3.Connection, ids: np.ndarray) -> _Rows:
    return _Rows(select_vector_rows(conn, "v.sentence IN (SELECT value FROM json_each(?))",
                                    [json.dumps(ids.tolist())]))


def _rescored(query: np.ndarray, keys: np.ndarray, found: _Rows, articles: vector_index.ArticleMask) -> list[Hit]:
    """The rows of ``keys`` still stored and passing ``articles``, with their
    exact cosine to ``query``, best first."""
    at = np.array([found.row_of.get(int(key), -1) for key in keys], dtype=np.int64)
    at = at[at >= 0]
    rows = found.rows
    keep = _passes(rows.article_pks[at], articles)
    at = at[keep]
    scores = vector_index.cosines(query[None, :], rows.matrix[at])[0]
    return _ranked(scores, rows.sentence_ids[at], rows.article_ids[at], rows.positions[at], len(at))


def _passes(article_pks: np.ndarray, articles: vector_index.ArticleMask) -> np.ndarray:
    keep = np.ones(len(article_pks), dtype=bool)
    if articles.allowed is not None:
        keep &= np.isin(article_pks, articles.allowed)
    if articles.excluded is not None and len(articles.excluded):
        keep &= ~np.isin(article_pks, articles.excluded)
    return keep


def _ranked(scores: np.ndarray, sentence_ids: np.ndarray, article_ids: np.ndarray, positions: np.ndarray,
            limit: int) -> list[Hit]:
    order = np.lexsort((sentence_ids, -scores))[:limit]
    return [(float(scores[i]), int(sentence_ids[i]), str(article_ids[i]), int(positions[i])) for i in order]


def _exact_hits(conn: sqlite3.Connection, up_to: int, queries: np.ndarray, articles: vector_index.ArticleMask,
                limit: int) -> list[list[Hit]]:
    """Exact search over the stored rows with ids up to ``up_to`` passing
    ``articles``, reading their vectors from SQL a batch at a time
    (restrictive filters, and the rare query the index cannot serve)."""
    best: list[list[Hit]] = [[] for _ in range(len(queries))]
    for rows in _stored_rows(conn, up_to, articles.allowed):
        keep = _passes(rows.article_pks, articles)
        if not keep.any():
            continue
        scores = vector_index.cosines(queries, rows.matrix[keep])
        for query, row in enumerate(scores):
            found = _ranked(row, rows.sentence_ids[keep], rows.article_ids[keep], rows.positions[keep], limit)
            best[query] = sorted(best[query] + found, key=lambda hit: (-hit[0], hit[1]))[:limit]
    return best


def _stored_rows(conn: sqlite3.Connection, up_to: int,
                 allowed: np.ndarray | None) -> Iterator[vector_index.VectorRows]:
    """The rows with ids up to ``up_to`` (of the ``allowed`` article pks),
    in batches: by id range, or by ``FILTERED_ARTICLES_PER_BATCH`` articles
    (the planner then starts from the articles' sentences)."""
    if allowed is not None:
        for begin in range(0, len(allowed), FILTERED_ARTICLES_PER_BATCH):
            chunk = json.dumps(allowed[begin:begin + FILTERED_ARTICLES_PER_BATCH].tolist())
            yield select_vector_rows(conn, "s.article IN (SELECT value FROM json_each(?)) AND v.sentence <= ?",
                                     [chunk, up_to])
        return
    after = 0
    while True:
        rows = select_vector_rows(conn, "v.sentence > ? AND v.sentence <= ? ORDER BY v.sentence LIMIT ?",
                                  [after, up_to, BUILD_BATCH_ROWS])
        if not len(rows):
            return
        yield rows
        after = int(rows.sentence_ids[-1])


def is_usable(index: ann.NeighbourIndex | None, current: Token) -> bool:
    """Whether ``index`` may serve the store at ``current``: it covers it and
    holds at least ``ann.ANN_MIN_VECTORS`` vectors."""
    return index is not None and index.info.covers(current) and index.info.count >= ann.ANN_MIN_VECTORS
