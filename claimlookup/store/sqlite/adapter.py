"""``SQLiteStore``: the embedded ``Store`` on one SQLite file. It holds the
per-process state (the connection pool, the vector matrix, the read cache),
runs the SQL of the other modules of this package inside its transactions,
and owns the lifecycle: setup, close, the integrity check, and ``rebuild()``
(a temp file copied over the live one with the online backup API, posted
articles carried across; see ``docs/store-sqlite.md``, "Rebuild").
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
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
from claimlookup.store import ann
from claimlookup.store import vectors as vector_index
from claimlookup.store.base import SPELLINGS_PER_ENTITY, ArticleNotFound, StoreCorrupt
from claimlookup.store.common import parse_date, query_vectors, require_sentences, validate_search_request
from claimlookup.store.sqlite import candidates, neighbours, read_cache, rebuilds, rows
from claimlookup.store.sqlite.connection import ConnectionPool, Owner, Token, create_schema, token, translated
from claimlookup.store.sqlite.read_cache import ReadCache
from claimlookup.store.sqlite.search import FormsMemo, entity_counts, entity_spellings, search_page, source_counts
from claimlookup.store.sqlite.writes import (
    SWAP_KEY,
    carry_article,
    refuse_during_swap,
    rekey_entities,
    stored_entity_keys_version,
    write_article,
)

#: Longest time writes are refused while a rebuild swaps its index in (a
#: killed rebuild's mark expires after it). The swap itself takes seconds.
SWAP_WINDOW_S = 30.0
#: ``refresh_vector_index`` rebuilds the approximate index once the rows
#: written or deleted since its build exceed this share of it.
INDEX_REBUILD_SHARE = 0.1

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VectorIndexRefresh:
    """What ``refresh_vector_index`` did: ``built``, ``kept`` (still fresh
    enough), ``removed`` (the store fell below ``ann.ANN_MIN_VECTORS``) or
    ``none`` (below it, and no index to remove)."""

    action: str
    vectors: int  # stored vectors now
    indexed: int  # vectors in the index (0 without one)
    written_since: int = 0  # rows the index lacks (searched exactly)
    deleted_since: int = 0  # indexed rows deleted since the build
    seconds: float = 0.0

    def describe(self) -> str:
        if self.action == "built":
            return f"built: {self.indexed:,} vectors in {self.seconds:.0f} s"
        if self.action == "kept":
            return (f"kept: {self.indexed:,} vectors, {self.written_since:,} written and "
                    f"{self.deleted_since:,} deleted since its build")
        return (f"{'removed' if self.action == 'removed' else 'none'}: {self.vectors:,} vectors, below the "
                f"{ann.ANN_MIN_VECTORS:,} of the approximate index (exact search)")


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
        self._index_seen: ann.FileIdentity | None = None  # the sidecar file as last looked at
        self._index_of_file: ann.NeighbourIndex | None = None  # that file, opened (None: missing or unusable)
        self._index_in_use: ann.NeighbourIndex | None = None
        #: OpenMP threads for building the approximate index. 1 unless the
        #: caller forks nothing afterwards: a process whose OpenMP threads
        #: ran hangs a forked child that uses them (the indexer sets more).
        self.index_build_threads = 1
        self._cache_lock = threading.Lock()
        self._read_cache = ReadCache.empty()
        #: Entity forms (search.key_forms) for one (file, token); a new dict
        #: for every other snapshot.
        self._forms: tuple[Owner, Token, FormsMemo] = ((0, None), ("", -1), {})

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    @property
    def vector_index_path(self) -> Path:
        """The approximate vector index, a derived sidecar file (``<path>.ann``)."""
        return neighbours.sidecar_path(self.path)

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
        """Create the file and tables if missing, switch to WAL, remove the
        temp files of killed rebuilds (``rebuilds.remove_dead``), and re-key
        the stored entities when they were written under another entity-key
        version (docs/nlp.md, "Existing stores"). Idempotent."""
        create_schema(self._pool)
        with translated(self.path):
            rebuilds.remove_dead(self.path)
            ann.remove_dead_builds(self.vector_index_path)
            ann.remove_dead_builds(neighbours.sidecar_path(rebuilds.temp_pattern(self.path)))
        self._rekey_entities()

    def _rekey_entities(self) -> None:
        from claimlookup import nlp  # spaCy (the module, no model) only when setting up

        with self._read() as conn:
            if stored_entity_keys_version(conn) == nlp.ENTITY_KEYS_VERSION:
                return
        with self._write() as conn:
            rekey_entities(conn, nlp.ENTITY_KEYS_VERSION, nlp.entity_key)

    def close(self) -> None:
        """Close pooled connections (borrowed ones close when given back)."""
        self._pool.close()
        with self._vector_lock:
            self._vectors = vector_index.empty_snapshot()
            self._index_seen = self._index_of_file = self._index_in_use = None
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

    def write_articles(self, articles: Iterable[Article], *, posted: bool = False) -> Iterator[WriteOutcome]:
        """Write each article in its own transaction, lazily. Outcomes count
        what was written (``unchanged`` reports 0 sentences and entities)."""
        for article in articles:
            require_sentences(article)
            with self._connection() as conn:
                outcome = write_article(conn, article, posted)
            yield outcome

    def delete_article(self, article_id: str) -> None:
        with self._write() as conn:
            refuse_during_swap(conn)
            if conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount == 0:
                conn.execute("ROLLBACK")
                raise ArticleNotFound(article_id)

    @contextmanager
    def rebuild(self) -> Iterator[SQLiteStore]:
        """Yield a store on a fresh temp file next to this one; on a clean exit
        carry the posted articles over, build its approximate vector index
        when it is large enough, then copy it over this store in one
        transaction (readers switch from the old snapshot to the new one at
        its commit). On error, discard it. The temp file is locked as this
        process's (``rebuilds``): a killed rebuild's is removed by the next
        ``setup()``."""
        self.setup()
        with rebuilds.temp_database(self.path) as name:
            fresh = SQLiteStore(name)
            fresh.index_build_threads = self.index_build_threads
            try:
                fresh.setup()
                carry = _PostedCarry(self, fresh)
                yield fresh
                carry.copy()
                fresh.optimize()
                fresh.refresh_vector_index()
                with self._swap_window():
                    carry.copy()  # what was posted or deleted since the first pass
                    fresh.close()
                    self._take_vector_index_of(fresh)
                    self._replace_with(fresh.path)
            finally:
                fresh.close()

    def _take_vector_index_of(self, fresh: SQLiteStore) -> None:
        """Put the rebuild's index (or its absence) in place just before the
        copy: readers keep the index they have mapped while it covers their
        snapshot, and take up the new one when the copy commits (its epoch)."""
        with translated(self.path):
            if fresh.vector_index_path.exists():
                os.replace(fresh.vector_index_path, self.vector_index_path)
            else:
                ann.remove(self.vector_index_path)

    @contextmanager
    def _swap_window(self) -> Iterator[None]:
        """Refuse writes (``StoreRebuilding``) from the last pass of the carry
        until the copy commits; the copy's own ``meta`` has no such mark. The
        mark is a deadline, so a rebuild killed here does not block writes for
        long."""
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (SWAP_KEY, time.time() + SWAP_WINDOW_S))
        try:
            yield
        finally:
            with self._connection() as conn:
                conn.execute("DELETE FROM meta WHERE key = ?", (SWAP_KEY,))

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
            return stored_article(conn, row, with_vectors=False)

    def search(self, request: SearchRequest) -> SearchPage:
        validate_search_request(request)
        with self._read() as conn:
            return search_page(conn, request, self._forms_for(token(conn)))

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        """Prefix matching compares lower-cased text: keys are lower case
        already; names are lowered by SQLite, which folds ASCII only."""
        with self._read() as conn:
            return entity_counts(conn, prefix, label, limit, self._forms_for(token(conn)))

    def entity_spellings(self, keys: Sequence[str], limit: int = SPELLINGS_PER_ENTITY) -> dict[str, list[str]]:
        with self._read() as conn:
            return entity_spellings(conn, keys, limit)

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
        """Exact search of the in-memory vectors; from ``ann.ANN_MIN_VECTORS``
        on, when a usable index file is there, the index's candidates
        re-scored exactly plus an exact search of the rows written since its
        build (``neighbours.search``)."""
        queries = query_vectors(vectors)
        with self._read() as conn:
            snapshot, index = self._vector_state(conn)
            mask = vector_index.ArticleMask() if filters == Filters() else candidates.article_mask(conn, filters)
            if index is not None:
                found = neighbours.search(conn, index, snapshot, queries, mask, limit)
        if index is None:
            found = snapshot.search(queries, mask, limit)
        return [[Candidate(SentenceRef(a, p), s) for a, p, s in hits] for hits in found]

    def _vector_snapshot(self) -> vector_index.VectorSnapshot:
        """The in-memory vectors, synced first if any process wrote since."""
        with self._read() as conn:
            return self._vector_state(conn)[0]

    def _vector_state(self, conn: sqlite3.Connection) -> tuple[vector_index.VectorSnapshot, ann.NeighbourIndex | None]:
        """The in-memory vectors synced to the caller's transaction, and the
        approximate index that serves it (None: exact search of every row)."""
        with self._vector_lock:
            current_token = token(conn)
            index = self._usable_index(current_token)
            floor = index.info.max_sentence_id if index is not None else 0
            current = self._vectors
            if current_token != current.token or current.floor != floor:
                self._vectors = candidates.sync(conn, current, current_token, floor)
            return self._vectors, index

    def _usable_index(self, current_token: Token) -> ann.NeighbourIndex | None:
        """The index for ``current_token`` (caller holds the vector lock).

        One ``stat`` per call notices a new file (opened and checked once);
        the index in use is kept while it covers the snapshot, so a rebuild
        may put its file in place before its copy commits. A file that
        cannot be used is logged once and ignored (exact search)."""
        identity = ann.file_identity(self.vector_index_path)
        if identity != self._index_seen:
            self._index_seen, self._index_of_file = identity, None
            if identity is not None:
                try:
                    self._index_of_file = ann.open_index(self.vector_index_path)
                except ann.IndexUnusable as e:
                    logger.warning("approximate vector index ignored, exact search meanwhile: %s", e)
        for index in (self._index_of_file, self._index_in_use):
            if neighbours.is_usable(index, current_token):
                self._index_in_use = index
                return index
        self._index_in_use = None
        return None

    def refresh_vector_index(self, *, force: bool = False) -> VectorIndexRefresh:
        """Build the approximate vector index when the store holds at least
        ``ann.ANN_MIN_VECTORS`` vectors and the index is missing, unusable or
        behind by more than ``INDEX_REBUILD_SHARE`` of it (``force``: build
        anyway); remove it below that size. The indexer runs this after
        every run; ``claimlookup-index --vector-index`` forces it."""
        with self._read() as conn:
            current_token, vectors = token(conn), neighbours.live_vectors(conn)
            existing = self._index_covering(current_token)
            written, deleted = neighbours.staleness(conn, existing) if existing else (0, 0)
        indexed = existing.count if existing else 0
        if vectors < ann.ANN_MIN_VECTORS:
            action = "removed" if ann.remove(self.vector_index_path) else "none"
            return VectorIndexRefresh(action, vectors, 0)
        if existing is not None and not force and written + deleted <= INDEX_REBUILD_SHARE * indexed:
            return VectorIndexRefresh("kept", vectors, indexed, written, deleted)
        started = time.perf_counter()
        with translated(self.path):
            mode = stat.S_IMODE(os.stat(self.path).st_mode)  # readable by whoever reads the database
            info = neighbours.build(self._read, self.vector_index_path, threads=self.index_build_threads, mode=mode)
        return VectorIndexRefresh("built", vectors, info.count, seconds=time.perf_counter() - started)

    def _index_covering(self, current_token: Token) -> ann.IndexInfo | None:
        """What the index file says, if it is usable and covers ``current_token``."""
        try:
            _, info = ann.read_info(self.vector_index_path)
        except ann.IndexUnusable:
            return None
        return info if info.covers(current_token) else None

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

    def _forms_for(self, current_token: Token) -> FormsMemo:
        """The entity-forms memo of ``current_token`` (read in the caller's
        transaction) on this file: every write gives a new token, so a memo
        never outlives the snapshot it was read from."""
        with self._cache_lock:
            owner, held, memo = self._forms
            if owner != self._pool.owner or held != current_token:
                memo = {}
                self._forms = (self._pool.owner, current_token, memo)
            return memo

    def _forget_read_cache(self) -> None:
        with self._cache_lock:
            self._read_cache = ReadCache.empty()
            self._forms = ((0, None), ("", -1), {})

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
            self._vectors = candidates.sync(conn, current, current_token, current.floor)
            return self._vectors


def stored_article(conn: sqlite3.Connection, row: sqlite3.Row, with_vectors: bool) -> Article:
    """The article of ``articles`` row ``row`` with its sentences, read in the
    caller's transaction."""
    pk = row["pk"]
    sql = ("SELECT s.*, v.vector FROM sentences s LEFT JOIN sentence_vectors v ON v.sentence = s.id "
           "WHERE s.article = ? ORDER BY s.position" if with_vectors else
           "SELECT * FROM sentences WHERE article = ? ORDER BY position")
    sentences = conn.execute(sql, (pk,)).fetchall()
    mentions, quantities = rows.sentence_annotations(conn, [(pk, s["position"]) for s in sentences])
    return Article(
        id=row["id"], title=row["title"], body=row["body"], source=row["source"], url=row["url"],
        published=parse_date(row["published"]), language=row["language"],
        sentences=[rows.sentence(s, mentions[(pk, s["position"])], quantities[(pk, s["position"])],
                                 with_vector=with_vectors) for s in sentences],
    )


class _PostedCarry:
    """Copies the posted articles of a live store into its rebuild (see
    ``Store.rebuild``). ``copy()`` runs once after the rebuild's writes and once
    more inside the swap window; each pass copies only what changed since the
    last. A version is known by its article pk, which a rewrite never reuses.

    Which version wins for an id both rebuilt and posted: the later one. A post
    from before the rebuild began loses to the rebuild's input (as it would to
    a plain indexer run); one made while the rebuild ran replaces it."""

    def __init__(self, live: SQLiteStore, fresh: SQLiteStore) -> None:
        self.live = live
        self.fresh = fresh
        with live._read() as conn:
            self.started = token(conn)[1]  # live generation when the rebuild began
        self.carried: dict[str, int] = {}  # article id -> live pk of the version carried

    def copy(self) -> None:
        with self.live._read() as conn:
            posted = {row["id"]: (row["pk"], row["generation"]) for row in conn.execute(
                "SELECT a.id, a.pk, p.generation FROM posted_articles p JOIN articles a ON a.pk = p.article")}
            deleted = [article_id for article_id in self.carried if article_id not in posted and conn.execute(
                "SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is None]
        rebuilt = self.fresh.content_hashes([i for i in posted if i not in self.carried])
        for article_id, (pk, generation) in posted.items():
            if self.carried.get(article_id) == pk or (article_id in rebuilt and generation <= self.started):
                continue
            if self._copy_one(pk):
                self.carried[article_id] = pk
        for article_id in deleted:
            with self.fresh._write() as conn:
                conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            del self.carried[article_id]

    def _copy_one(self, pk: int) -> bool:
        """Copy the version ``pk``; False when it is gone already (rewritten or
        deleted since it was listed: the next pass sees what replaced it)."""
        with self.live._read() as conn:
            row = conn.execute("SELECT * FROM articles WHERE pk = ?", (pk,)).fetchone()
            if row is None:
                return False
            article, content_hash = stored_article(conn, row, with_vectors=True), row["content_hash"]
        with self.fresh._connection() as conn:
            carry_article(conn, article, content_hash)
        return True
