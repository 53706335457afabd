"""Claim-lookup candidates on SQLite: BM25 over sentences, and the database
side of the in-memory vector search (``claimlookup.store.vectors`` holds the
matrix): keeping it in step with ``sentence_vectors`` and turning filters
into an article mask.

Each process mirrors the ``sentence_vectors`` table in a numpy matrix. The
``meta.(epoch, generation)`` token changes with every write, so a reader
notices writes made by other processes and syncs incrementally (``sync``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from claimlookup.model import Candidate, Filters, ParsedQuery, SentenceRef
from claimlookup.store import vectors as vector_index
from claimlookup.store.sqlite.connection import Token
from claimlookup.store.sqlite.fts import fts_expression
from claimlookup.store.sqlite.rows import REFS_TO_IDS, filter_sql, pks, refs_json


def lexical_sql(query: ParsedQuery, filters: Filters, limit: int,
                restrict_to: Sequence[SentenceRef] | None = None) -> tuple[str, list[Any]] | None:
    """The SQL and params ranking sentences by BM25 over ``sentences_fts``,
    best first (rows: article id, position, rank); None when nothing can
    match (see ``Store.lexical_candidates``)."""
    expression = fts_expression(query)
    if expression is None or limit <= 0 or (restrict_to is not None and not restrict_to):
        return None
    where, params = filter_sql(filters)
    if restrict_to is None and filters == Filters():
        # Nothing to filter: FTS5 picks the best ``limit`` rows on its own
        # (``rank`` is bm25(), ``rowid`` the sentence id) before the joins, so
        # only those rows are joined, not every sentence that matches one
        # term. The same rows in the same order; at a million sentences 2.5x
        # less time (docs/benchmarks.md, "Session 12: a lookup's and a
        # search's own SQL at 1M").
        sql = ("SELECT a.id, s.position, f.rank FROM (SELECT rowid, rank FROM sentences_fts "
               "WHERE sentences_fts MATCH ? ORDER BY rank, rowid LIMIT ?) f "
               "JOIN sentences s ON s.id = f.rowid JOIN articles a ON a.pk = s.article ORDER BY f.rank, s.id")
        return sql, [expression, limit]
    if restrict_to is not None:
        where += f" AND s.id IN ({REFS_TO_IDS})"
        params.append(refs_json(restrict_to))
    sql = ("SELECT a.id, s.position, bm25(sentences_fts) AS rank FROM sentences_fts "
           "JOIN sentences s ON s.id = sentences_fts.rowid JOIN articles a ON a.pk = s.article "
           f"WHERE sentences_fts MATCH ? AND {where} ORDER BY rank, s.id LIMIT ?")
    return sql, [expression, *params, limit]


def lexical_candidates(rows: Sequence[sqlite3.Row]) -> list[Candidate]:
    """Rows of ``lexical_sql`` as candidates (score = -bm25, higher is better)."""
    return [Candidate(SentenceRef(r["id"], r["position"]), -float(r["rank"]) + 0.0) for r in rows]


def article_mask(conn: sqlite3.Connection, filters: Filters) -> vector_index.ArticleMask:
    """``filters`` as article pks: the articles passing the positive filters
    (None if there are none) and the excluded articles. ``Filters()`` needs
    no SQL: callers pass ``vector_index.ArticleMask()`` for it."""
    positive = replace(filters, exclude_articles=())
    allowed = None if positive == Filters() else pks(conn, *filter_sql(positive))
    excluded = None
    if filters.exclude_articles:
        excluded = pks(conn, "a.id IN (SELECT value FROM json_each(?))", [json.dumps(list(filters.exclude_articles))])
    return vector_index.ArticleMask(allowed, excluded)


def sync(conn: sqlite3.Connection, current: vector_index.VectorSnapshot, token: Token,
         floor: int = 0) -> vector_index.VectorSnapshot:
    """Bring the in-memory vectors up to date with the database, holding the
    rows with sentence ids above ``floor`` (0: all of them; an approximate
    index holds the rest).

    Same epoch and floor: drop rows of articles that are gone, append
    sentences with ids above the highest loaded one (ids are never reused).
    New epoch (a fresh or rebuilt file), an older generation (a restored
    copy) or another floor: load every row above the floor."""
    if (current.token[0] != token[0] or token[1] < current.token[1] or current.floor != floor
            or current.size == 0):
        return load_vectors(conn, token, floor)
    present = pks(conn, "1", [])
    return vector_index.update(current, token, present, vector_rows(conn, after=current.max_sentence_id))


#: Rows decoded per step of a full load (~30 MB of vectors).
LOAD_BATCH_ROWS = 20_000
_AFTER = "v.sentence > ? ORDER BY v.sentence"


def load_vectors(conn: sqlite3.Connection, token: Token, floor: int) -> vector_index.VectorSnapshot:
    """Every vector above ``floor``, written batch by batch into the
    snapshot's arrays, sized first from a count in the caller's transaction.
    Reading them all and then copying (as appends do) held each vector three
    times at the peak (its bytes, the joined bytes, the matrix): at 300k
    vectors a worker touched 1.4 GiB to keep 0.6 (docs/benchmarks.md,
    "Memory of a worker")."""
    count = conn.execute("SELECT count(*) FROM sentence_vectors WHERE sentence > ?", [floor]).fetchone()[0]
    batches = select_vector_batches(conn, _AFTER, [floor], LOAD_BATCH_ROWS)
    return vector_index.load_batches(token, int(count), batches, floor)


def vector_rows(conn: sqlite3.Connection, after: int) -> vector_index.VectorRows:
    """Vectors of sentences with ids above ``after``, in id order."""
    return select_vector_rows(conn, _AFTER, [after])


_VECTOR_SELECT = ("SELECT s.id, s.article, a.id, s.position, v.vector FROM sentence_vectors v "
                  "JOIN sentences s ON s.id = v.sentence JOIN articles a ON a.pk = s.article ")


def select_vector_batches(conn: sqlite3.Connection, condition: str, params: Sequence[Any],
                          size: int) -> Iterator[vector_index.VectorRows]:
    """The vector rows ``WHERE condition``, ``size`` rows at a time."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples
    cursor.execute(_VECTOR_SELECT + f"WHERE {condition}", list(params))
    while rows := cursor.fetchmany(size):
        yield _vector_rows(rows)


def select_vector_rows(conn: sqlite3.Connection, condition: str, params: Sequence[Any]) -> vector_index.VectorRows:
    """The vector rows ``WHERE condition`` (over ``sentence_vectors v``,
    ``sentences s``, ``articles a``; it may end with ORDER BY / LIMIT)."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples
    rows = cursor.execute(_VECTOR_SELECT + f"WHERE {condition}", list(params)).fetchall()
    if not rows:
        return vector_index.VectorRows.empty()
    return _vector_rows(rows)


def _vector_rows(rows: Sequence[tuple]) -> vector_index.VectorRows:
    ids, article_pks, article_ids, positions, blobs = zip(*rows, strict=True)
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(rows), len(blobs[0]) // 4)
    return vector_index.VectorRows(
        sentence_ids=np.array(ids, dtype=np.int64), article_pks=np.array(article_pks, dtype=np.int64),
        article_ids=np.array(article_ids, dtype=object), positions=np.array(positions, dtype=np.int32),
        matrix=matrix)
