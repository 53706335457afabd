"""``SQLiteStore``: the embedded ``Store`` on one SQLite file. It holds the
per-process state (the connection pool, the vector matrix, the read cache),
runs the SQL of the other modules of this package inside its transactions,
and owns the lifecycle: setup, close, the integrity check, and ``rebuild()``
(a temp file copied over the live one with the online backup API).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np

from claimlookup.model import (
    Article,
    Candidate,
    EntityCount,
    Filters,
    ParsedQuery,
    SearchPage,
    SearchRequest,
    SentenceRef,
    SourceCount,
    StoredSentence,
    WriteOutcome,
)
from claimlookup.store import vectors as vector_index
from claimlookup.store.base import ArticleNotFound, StoreCorrupt
from claimlookup.store.common import parse_date, query_vectors, require_sentences, validate_search_request
from claimlookup.store.sqlite import candidates, read_cache, rows
from claimlookup.store.sqlite.connection import ConnectionPool, Token, create_schema, token, translated
from claimlookup.store.sqlite.read_cache import ReadCache
from claimlookup.store.sqlite.search import entity_counts, search_page, source_counts
from claimlookup.store.sqlite.writes import write_article


class SQLiteStore:
    """The embedded ``Store``. ``SQLiteStore(path)`` touches nothing;
    ``setup()`` creates the directory, the file and the tables.

    ``get_article`` returns sentences without vectors (``get_sentences`` has
    them). Sentences are only ever deleted together with their article (a
    rewrite replaces the article row), which the vector sync relies on.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._pool = ConnectionPool(self.path)
        self._vector_lock = threading.Lock()
        self._vectors = vector_index.empty_snapshot()
        self._cache_lock = threading.Lock()
        self._read_cache = ReadCache.empty()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # --- connections (see connection.ConnectionPool) --------------------------

    @property
    def _pool_generation(self) -> int:
        """Bumped when the pool is closed or dropped (after a fork, or when the
        file was replaced)."""
        return self._pool.generation

    def _connection(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._pool.connection()

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._pool.read()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._pool.write()

    # --- lifecycle ------------------------------------------------------------------

    def setup(self) -> None:
        """Create the file and tables if missing, switch to WAL. Idempotent."""
        create_schema(self._pool)

    def close(self) -> None:
        """Close pooled connections (borrowed ones close when given back)."""
        self._pool.close()
        with self._vector_lock:
            self._vectors = vector_index.empty_snapshot()
        self._forget_read_cache()

    def ping(self) -> None:
        with self._read() as conn:
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()

    def integrity_check(self) -> None:
        """Run SQLite's and FTS5's integrity checks; raise StoreCorrupt."""
        with self._connection() as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise StoreCorrupt(f"{self.path}: " + "; ".join(problems[:5]))
            for fts in ("sentences_fts", "articles_fts"):
                try:
                    conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")
                except sqlite3.DatabaseError as e:
                    raise StoreCorrupt(f"{self.path}: {fts} does not match its content: {e}") from e

    # --- writing ------------------------------------------------------------------------

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        with self._read() as conn:
            found = conn.execute("SELECT id, content_hash FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                                 (json.dumps(list(ids)),))
            return {row["id"]: row["content_hash"] for row in found}

    def write_articles(self, articles: Iterable[Article]) -> Iterator[WriteOutcome]:
        """Write each article in its own transaction, lazily. Outcomes count
        what was written (``unchanged`` reports 0 sentences and entities)."""
        for article in articles:
            require_sentences(article)
            with self._connection() as conn:
                outcome = write_article(conn, article)
            yield outcome

    def delete_article(self, article_id: str) -> None:
        with self._write() as conn:
            if conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount == 0:
                conn.execute("ROLLBACK")
                raise ArticleNotFound(article_id)

    @contextmanager
    def rebuild(self) -> Iterator[SQLiteStore]:
        """Yield a store on a fresh temp file next to this one; on a clean exit
        copy it over this store in one transaction (readers switch from the
        old snapshot to the new one at its commit). On error, discard it."""
        self.setup()
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.rebuild-", suffix=".db", dir=self.path.parent)
        os.close(fd)
        fresh = SQLiteStore(name)
        try:
            fresh.setup()
            yield fresh
            fresh.optimize()
            fresh.close()
            self._replace_with(fresh.path)
        finally:
            fresh.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(name + suffix).unlink(missing_ok=True)

    def optimize(self) -> None:
        """Merge FTS5 segments and refresh planner statistics."""
        with self._connection() as conn:
            conn.execute("INSERT INTO sentences_fts (sentences_fts) VALUES ('optimize')")
            conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
            conn.execute("PRAGMA optimize")

    def _replace_with(self, source: Path) -> None:
        with translated(self.path):
            src = sqlite3.connect(source)
            try:
                with self._connection() as conn:
                    src.backup(conn)
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                src.close()

    # --- reading --------------------------------------------------------------------------

    def count_articles(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    def get_article(self, article_id: str) -> Article:
        with self._read() as conn:
            row = conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                raise ArticleNotFound(article_id)
            sentences = conn.execute("SELECT * FROM sentences WHERE article = ? ORDER BY position",
                                     (row["pk"],)).fetchall()
            mentions, quantities = rows.sentence_annotations(conn, [(row["pk"], s["position"]) for s in sentences])
        return Article(
            id=row["id"], title=row["title"], body=row["body"], source=row["source"], url=row["url"],
            published=parse_date(row["published"]), language=row["language"],
            sentences=[rows.sentence(s, mentions[(row["pk"], s["position"])],
                                     quantities[(row["pk"], s["position"])], with_vector=False) for s in sentences],
        )

    def search(self, request: SearchRequest) -> SearchPage:
        validate_search_request(request)
        with self._read() as conn:
            return search_page(conn, request)

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        """Prefix matching compares lower-cased text: keys are lower case
        already; names are lowered by SQLite, which folds ASCII only."""
        with self._read() as conn:
            return entity_counts(conn, prefix, label, limit)

    def sources(self) -> list[SourceCount]:
        with self._read() as conn:
            return source_counts(conn)

    # --- claim lookup candidates ----------------------------------------------------------

    def lexical_candidates(self, query: ParsedQuery, filters: Filters, limit: int,
                           restrict_to: Sequence[SentenceRef] | None = None) -> list[Candidate]:
        planned = candidates.lexical_sql(query, filters, limit, restrict_to)
        if planned is None:
            return []
        with self._read() as conn:
            found = conn.execute(*planned).fetchall()
        return candidates.lexical_candidates(found)

    def vector_candidates(self, vectors: np.ndarray, filters: Filters, limit: int) -> list[list[Candidate]]:
        queries = query_vectors(vectors)
        snapshot = self._vector_snapshot()
        found = snapshot.search(queries, self._article_mask(filters), limit)
        return [[Candidate(SentenceRef(a, p), s) for a, p, s in hits] for hits in found]

    def _article_mask(self, filters: Filters) -> vector_index.ArticleMask:
        """``filters`` as article pks (see ``candidates.article_mask``)."""
        if filters == Filters():
            return vector_index.ArticleMask()
        with self._read() as conn:
            return candidates.article_mask(conn, filters)

    def _vector_snapshot(self) -> vector_index.VectorSnapshot:
        """The in-memory vectors, synced first if any process wrote since."""
        with self._vector_lock, self._read() as conn:
            current_token = token(conn)
            current = self._vectors
            if current_token != current.token:
                self._vectors = candidates.sync(conn, current, current_token)
            return self._vectors

    def get_sentences(self, refs: Sequence[SentenceRef]) -> list[StoredSentence]:
        """Served from the read cache where it can be (see ``ReadCache``):
        one transaction reads the token, resolves article ids unseen under
        this token and loads only sentences not cached yet; vectors are
        copied from the in-memory matrix when it mirrors this snapshot."""
        if not refs:
            return []
        with self._read() as conn:
            current_token = token(conn)
            cache = self._read_cache_for(current_token)
            pks = read_cache.resolve_articles(conn, cache, {r.article_id for r in refs})
            keys = [(pk, r.position) for r in refs if (pk := pks[r.article_id]) is not None]
            found = read_cache.cached_sentences(conn, cache, keys)
            facts = [f for f in (found[k] for k in keys) if f is not None]
            vectors = read_cache.vectors_of(conn, facts, self._vectors_if_current(conn, current_token))
        return read_cache.stored_sentences(facts, vectors)

    def _read_cache_for(self, current_token: Token) -> ReadCache:
        """The read cache valid for ``current_token`` (read in the caller's
        transaction), made anew or carried over as ``ReadCache`` allows."""
        with self._cache_lock:
            current = self._read_cache
            if not current.is_for(current_token, self._pool.owner):
                self._read_cache = current = current.moved_to(current_token, self._pool.owner)
            return current

    def _forget_read_cache(self) -> None:
        with self._cache_lock:
            self._read_cache = ReadCache.empty()

    def _vectors_if_current(self, conn: sqlite3.Connection,
                            current_token: Token) -> vector_index.VectorSnapshot | None:
        """The vector matrix as of ``current_token``, synced if it is behind
        (already loaded and same epoch); None when it was never loaded
        (get_sentences alone does not load every vector) or is ahead of this
        snapshot."""
        with self._vector_lock:
            current = self._vectors
            if current.token == current_token:
                return current
            if current.size == 0 or current.token[0] != current_token[0] or current.token[1] > current_token[1]:
                return None
            self._vectors = candidates.sync(conn, current, current_token)
            return self._vectors
