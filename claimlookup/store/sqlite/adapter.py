"""The embedded store: one SQLite file, FTS5 for BM25 and highlights, sentence
vectors as BLOBs searched in memory with numpy.

Design (details and measurements in ``docs/store-sqlite.md``):

* WAL mode, ``synchronous=NORMAL``: a commit survives a process kill; a power
  cut may lose the last few commits but never corrupts the file.
* One ``BEGIN IMMEDIATE`` transaction per article: a kill at any moment leaves
  every article fully old or fully new.
* Connections come from a small pool (any thread may borrow one); readers in
  other processes each have their own. A forked child, or any process whose
  file was replaced under it (compared by inode on every operation), starts a
  new pool and leaves the old connections alone. SQLite serialises writers; every
  connection waits up to ``BUSY_TIMEOUT_S`` for the lock.
* User text reaches FTS5 only through ``fts_expression`` (every term a quoted
  string) and only as a bound parameter.
* Vectors: each process mirrors the ``sentence_vectors`` table in a numpy
  matrix. A ``(epoch, generation)`` pair in ``meta`` changes with every write,
  so a reader notices writes made by other processes and syncs incrementally.
* ``get_sentences`` keeps decoded sentences and article facts in memory,
  keyed by article pk, which a rewrite never reuses: the same token tells it
  when its article id -> pk map is stale (see ``_ReadCache``). Vectors come
  from the in-memory matrix, copied.
* ``rebuild()`` builds a temp file and copies it over the live database with
  SQLite's online backup API, in one write transaction: readers keep their
  snapshot until it commits, then see the new data; the file is never swapped
  under an open WAL.
"""

from __future__ import annotations

import html
import json
import os
import sqlite3
import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import numpy as np

from claimlookup.embed import from_blob, to_blob
from claimlookup.model import (
    Article,
    Candidate,
    EntityCount,
    EntityMention,
    FacetCount,
    Facets,
    Filters,
    ParsedQuery,
    Quantity,
    SearchHit,
    SearchPage,
    SearchRequest,
    Sentence,
    SentenceRef,
    SourceCount,
    Stance,
    StoredSentence,
    WriteOutcome,
    WriteStatus,
)
from claimlookup.store import vectors as vector_index
from claimlookup.store.base import ArticleNotFound, StoreCorrupt, StoreError, StoreUnavailable

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
BUSY_TIMEOUT_S = 10.0
MAX_IDLE_CONNECTIONS = 8
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
CACHE_KIB = 32 * 1024  # page cache per connection (allocated as used)
SCHEMA_VERSION = 2
#: Private-use characters that bracket matches in highlight()/snippet() output
#: before HTML escaping; they become <mark> and </mark> afterwards.
MARK_START, MARK_END = "\ue000", "\ue001"
_MARKER_TO_REPLACEMENT = {ord(MARK_START): "\ufffd", ord(MARK_END): "\ufffd"}
SNIPPET_TOKENS = 32
LISTING_SNIPPET_CHARS = 240
TITLE_WEIGHT, BODY_WEIGHT = 3.0, 1.0
FACET_LIMIT = 20

_UNAVAILABLE_CODES = {3, 5, 6, 7, 8, 10, 13, 14, 15}  # PERM BUSY LOCKED NOMEM READONLY IOERR FULL CANTOPEN PROTOCOL
_CORRUPT_CODES = {11, 26}  # CORRUPT NOTADB


# --- FTS5 query text ----------------------------------------------------------


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string literal: whatever it contains (quotes,
    ``*``, ``NEAR(``, ``AND``, ``:``), FTS5 reads it as words to match in
    sequence, never as syntax. (NUL would end the string early: it becomes
    a space, which separates tokens anyway.)"""
    return '"' + text.replace('"', '""').replace("\x00", " ") + '"'


def fts_expression(query: ParsedQuery) -> str | None:
    """The FTS5 MATCH expression for ``query`` (None if it has no groups):
    groups ANDed, terms within a group ORed, exclusions NOT-ed."""
    groups = ["(" + " OR ".join(fts_phrase(t.text) for t in group) + ")" for group in query.groups if group]
    if not groups:
        return None
    expression = " AND ".join(groups)
    if query.excluded:
        expression = f"({expression}) NOT ({fts_exclusion(query)})"
    return expression


def fts_exclusion(query: ParsedQuery) -> str:
    """The excluded terms as one FTS5 OR expression."""
    return " OR ".join(fts_phrase(t.text) for t in query.excluded)


def _unmarked(text: str) -> str:
    """``text`` with the highlight markers replaced by U+FFFD (same length,
    so offsets hold): stored text can never fake a <mark> tag."""
    return text.translate(_MARKER_TO_REPLACEMENT)


def markup(marked: str) -> str:
    """HTML-escape highlighter output, then turn the markers into <mark> tags."""
    return html.escape(marked).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def _lead(text: str, limit: int = LISTING_SNIPPET_CHARS) -> str:
    """The start of ``text`` cut at a word boundary, HTML-escaped."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return html.escape(text)
    cut = text.rfind(" ", 0, limit)
    return html.escape(text[:cut if cut > 0 else limit]) + "…"


# --- errors -------------------------------------------------------------------


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """Re-raise sqlite3 errors (and file-system errors) as the store's own."""
    try:
        yield
    except sqlite3.Error as e:
        raise _store_error(e, path) from e
    except OSError as e:
        raise StoreUnavailable(f"SQLite store {path}: {e}") from e


def _store_error(e: sqlite3.Error, path: Path) -> StoreError:
    code = getattr(e, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    message = f"SQLite store {path}: {e}"
    if primary in _CORRUPT_CODES:
        return StoreCorrupt(message)
    if primary in _UNAVAILABLE_CODES or str(e).startswith("no such table"):
        return StoreUnavailable(message)
    return StoreError(message)


# --- filters -------------------------------------------------------------------


def _filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A WHERE fragment over ``articles a`` for ``filters``, with its params."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.sources:
        clauses.append("a.source IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(filters.sources)))
    if filters.date_from:
        clauses.append("a.published >= ?")
        params.append(filters.date_from.isoformat())
    if filters.date_to:
        clauses.append("a.published <= ?")
        params.append(filters.date_to.isoformat())
    for key in filters.entities:
        clauses.append("EXISTS (SELECT 1 FROM article_entities ae WHERE ae.article = a.pk AND ae.key = ?)")
        params.append(key)
    if filters.exclude_articles:
        clauses.append("a.id NOT IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(filters.exclude_articles)))
    return " AND ".join(clauses) or "1", params


@dataclass(frozen=True, slots=True)
class _Plan:
    """The FROM and WHERE of one search, with its rank SQL (lower is better,
    as bm25() returns). Hits are identified by ``key`` (article pk or sentence
    id); with an FTS ``expression`` their snippets come from a second query
    over the page only, since highlight()/snippet() in the page query would
    run for every match before ORDER BY ... LIMIT."""

    source: str
    where: str
    params: list[Any]
    rank: str
    key: str
    position: str  # the hit's sentence position (NULL at article level)
    listing_text: str  # text to lead the snippet with when there is no expression
    fts: str
    expression: str | None


def _search_plan(request: SearchRequest) -> _Plan:
    where, params = _filter_sql(request.filters)
    query = request.query
    expression = fts_expression(query)
    sentence_level = request.level == "sentence"
    fts = "sentences_fts" if sentence_level else "articles_fts"
    if sentence_level:
        source = "sentences s JOIN articles a ON a.pk = s.article"
        key, position, text = "s.id", "s.position", "s.text"
        rank = "bm25(sentences_fts)"
    else:
        source, key, position, text = "articles a", "a.pk", "NULL", f"substr(a.body, 1, {LISTING_SNIPPET_CHARS * 2})"
        rank = f"bm25(articles_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"
    if expression:
        source = ("sentences_fts JOIN sentences s ON s.id = sentences_fts.rowid JOIN articles a ON a.pk = s.article"
                  if sentence_level else "articles_fts JOIN articles a ON a.pk = articles_fts.rowid")
        where, params = f"{fts} MATCH ? AND {where}", [expression, *params]
    else:
        rank = "0"
        if query.excluded:  # nothing to look for, only things to leave out
            where = f"{where} AND {key} NOT IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)"
            params = [*params, fts_exclusion(query)]
    return _Plan(source, where, params, rank, key, position, text, fts, expression)


def _snippet_sql(plan: _Plan) -> str:
    """Marked text of the page's hits: (rowid, marked) for rowids in a JSON list."""
    marker = f"'{MARK_START}', '{MARK_END}'"
    if plan.fts == "sentences_fts":
        function = f"highlight(sentences_fts, 0, {marker})"
    else:
        function = f"snippet(articles_fts, -1, {marker}, '…', {SNIPPET_TOKENS})"
    return (f"SELECT rowid, {function} AS marked FROM {plan.fts} "
            f"WHERE {plan.fts} MATCH ? AND rowid IN (SELECT value FROM json_each(?))")


def _order_by(request: SearchRequest) -> str:
    tie = "a.pk, s.position" if request.level == "sentence" else "a.pk"
    if request.sort == "date":
        return f"a.published IS NULL, a.published DESC, rank, {tie}"
    if request.query.is_empty:
        return f"a.published IS NULL, a.published DESC, {tie}"
    return f"rank, {tie}"


def _validate(request: SearchRequest) -> None:
    if request.level not in ("article", "sentence"):
        raise ValueError(f"level must be 'article' or 'sentence', not {request.level!r}")
    if request.sort not in ("relevance", "date"):
        raise ValueError(f"sort must be 'relevance' or 'date', not {request.sort!r}")
    if request.page < 1 or request.size < 1:
        raise ValueError("page and size must be at least 1")


# --- rows -> domain -------------------------------------------------------------


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _mention(row: sqlite3.Row) -> EntityMention:
    return EntityMention(text=row["text"], label=row["label"], key=row["key"], start=row["start"], end=row["end"])


def _quantity(row: sqlite3.Row) -> Quantity:
    return Quantity(value=row["value"], text=row["text"], counts=row["counts"], event=row["event"],
                    qualifier=row["qualifier"], start=row["start"], end=row["end"])


def _sentence(row: sqlite3.Row, mentions: list[EntityMention], quantities: list[Quantity],
              with_vector: bool) -> Sentence:
    vector = from_blob(row["vector"]).copy() if with_vector and row["vector"] is not None else None
    return Sentence(position=row["position"], text=row["text"], start=row["start"], end=row["end"],
                    entities=mentions, quantities=quantities, stance=Stance(row["stance"]),
                    speaker=row["speaker"], vector=vector)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- the store --------------------------------------------------------------------


class SQLiteStore:
    """The embedded ``Store``. ``SQLiteStore(path)`` touches nothing;
    ``setup()`` creates the directory, the file and the tables.

    ``get_article`` returns sentences without vectors (``get_sentences`` has
    them). Sentences are only ever deleted together with their article (a
    rewrite replaces the article row), which the vector sync relies on.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pool_generation = 0
        self._owner: tuple[int, tuple[int, int] | None] = (os.getpid(), None)  # (pid, file identity)
        self._abandoned_generations: set[int] = set()
        self._abandoned: list[sqlite3.Connection] = []
        self._vector_lock = threading.Lock()
        self._vectors = vector_index.empty_snapshot()
        self._cache_lock = threading.Lock()
        self._read_cache = _ReadCache.empty()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # --- connections ---------------------------------------------------------

    def _connect(self, create: bool = False) -> sqlite3.Connection:
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
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a pooled connection (errors translated to StoreError)."""
        with _translated(self.path):
            owner = (os.getpid(), _file_identity(self.path))
            with self._lock:
                if owner != self._owner:
                    self._abandon_pool(owner)
                conn = self._idle.pop() if self._idle else None
                generation = self._pool_generation
            conn = conn or self._connect()
            try:
                yield conn
            finally:
                self._give_back(conn, generation)

    def _abandon_pool(self, owner: tuple[int, tuple[int, int] | None]) -> None:
        """Forget the pool after a fork or when the file was replaced under us
        (caller holds the lock). The old connections are kept open, never
        closed: closing the last connection to a WAL file checkpoints it and
        unlinks ``<path>-wal`` *by name*, which would now be the parent's or
        the new file's WAL."""
        if self._owner[1] is not None:
            self._abandoned += self._idle
            self._abandoned_generations.add(self._pool_generation)
        self._idle = []
        self._pool_generation += 1
        self._owner = owner

    def _give_back(self, conn: sqlite3.Connection, generation: int) -> None:
        with self._lock:
            if generation in self._abandoned_generations:
                self._abandoned.append(conn)
                return
        if conn.in_transaction:
            conn.rollback()
        with self._lock:
            if generation == self._pool_generation and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction: one consistent snapshot."""
        with self._connection() as conn:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a write transaction that bumps the generation."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            conn.execute("COMMIT")

    # --- lifecycle ------------------------------------------------------------------

    def setup(self) -> None:
        """Create the file and tables if missing, switch to WAL. Idempotent."""
        with _translated(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect(create=True)
            try:
                _check_schema_version(conn, self.path)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript("BEGIN IMMEDIATE;\n" + SCHEMA_PATH.read_text("utf-8") + "\nCOMMIT;")
            finally:
                conn.close()

    def close(self) -> None:
        """Close pooled connections (borrowed ones close when given back)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._pool_generation += 1
        for conn in idle:
            conn.close()
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
            rows = conn.execute("SELECT id, content_hash FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                                (json.dumps(list(ids)),))
            return {row["id"]: row["content_hash"] for row in rows}

    def write_articles(self, articles: Iterable[Article]) -> Iterator[WriteOutcome]:
        """Write each article in its own transaction, lazily. Outcomes count
        what was written (``unchanged`` reports 0 sentences and entities)."""
        for article in articles:
            yield self._write_article(article)

    def _write_article(self, article: Article) -> WriteOutcome:
        if not article.sentences:
            raise ValueError(f"article {article.id!r} has no sentences: analyse it before writing")
        content_hash = article.content_hash
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT pk, content_hash FROM articles WHERE id = ?", (article.id,)).fetchone()
            if row is not None and row["content_hash"] == content_hash:
                conn.execute("COMMIT")
                return WriteOutcome(article.id, WriteStatus.UNCHANGED)
            if row is not None:
                conn.execute("DELETE FROM articles WHERE pk = ?", (row["pk"],))
            _insert_article(conn, article, content_hash)
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            conn.execute("COMMIT")
        status = WriteStatus.NEW if row is None else WriteStatus.UPDATED
        return WriteOutcome(article.id, status, len(article.sentences), len(article.entities))

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
        with _translated(self.path):
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
            mentions, quantities = _annotations(conn, [(row["pk"], s["position"]) for s in sentences])
        return Article(
            id=row["id"], title=row["title"], body=row["body"], source=row["source"], url=row["url"],
            published=_date(row["published"]), language=row["language"],
            sentences=[_sentence(s, mentions[(row["pk"], s["position"])], quantities[(row["pk"], s["position"])],
                                 with_vector=False) for s in sentences],
        )

    def search(self, request: SearchRequest) -> SearchPage:
        _validate(request)
        plan = _search_plan(request)
        with self._read() as conn:
            total = conn.execute(f"SELECT count(*) FROM {plan.source} WHERE {plan.where}", plan.params).fetchone()[0]
            hits = self._page(conn, plan, request) if total else []
            facets = self._facets(conn, plan) if request.facets else Facets()
        return SearchPage(total=total, hits=hits, facets=facets)

    def _page(self, conn: sqlite3.Connection, plan: _Plan, request: SearchRequest) -> list[SearchHit]:
        text = "NULL" if plan.expression else plan.listing_text
        sql = (f"SELECT {plan.key} AS key, a.id, a.title, a.source, a.published, a.url, {plan.rank} AS rank, "
               f"{plan.position} AS position, {text} AS text "
               f"FROM {plan.source} WHERE {plan.where} ORDER BY {_order_by(request)} LIMIT ? OFFSET ?")
        rows = conn.execute(sql, [*plan.params, request.size, (request.page - 1) * request.size]).fetchall()
        if plan.expression and rows:
            marked = dict(conn.execute(_snippet_sql(plan), (plan.expression, json.dumps([r["key"] for r in rows]))))
            snippets = [markup(marked.get(r["key"], "")) for r in rows]
        else:
            snippets = [_lead(r["text"]) for r in rows]
        return [SearchHit(article_id=r["id"], title=r["title"], source=r["source"], published=_date(r["published"]),
                          url=r["url"], score=-float(r["rank"]) + 0.0, snippet=snippet,
                          sentence_position=r["position"]) for r, snippet in zip(rows, snippets)]

    def _facets(self, conn: sqlite3.Connection, plan: _Plan) -> Facets:
        matched, params = _matched_articles(plan, "pk")
        sources = conn.execute(
            f"SELECT source, count(*) AS n FROM articles WHERE {matched} AND source IS NOT NULL "
            "GROUP BY source ORDER BY n DESC, source LIMIT ?", [*params, FACET_LIMIT])
        months = conn.execute(
            f"SELECT substr(published, 1, 7) AS month, count(*) AS n FROM articles "
            f"WHERE {matched} AND published IS NOT NULL GROUP BY month ORDER BY month", params)
        matched, params = _matched_articles(plan, "article")
        top = conn.execute(f"SELECT key, count(*) AS n FROM article_entities WHERE {matched} "
                           "GROUP BY key ORDER BY n DESC, key LIMIT ?", [*params, FACET_LIMIT]).fetchall()
        entities = _with_forms(conn, [(r["key"], r["n"]) for r in top])
        return Facets(
            sources=[FacetCount(r["source"], r["n"]) for r in sources],
            entities=[FacetCount(e.key, e.articles, label=e.label, name=e.name) for e in entities],
            months=[FacetCount(r["month"], r["n"]) for r in months],
        )

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        """Prefix matching compares lower-cased text: keys are lower case
        already; names are lowered by SQLite, which folds ASCII only."""
        clauses, params = ["1"], []
        if prefix:
            low = prefix.lower()
            clauses.append("((key >= ? AND key < ?) OR (lower(text) >= ? AND lower(text) < ?))")
            params += [low, low + "\U0010ffff", low, low + "\U0010ffff"]
        if label:
            clauses.append("label = ?")
            params.append(label)
        with self._read() as conn:
            top = conn.execute(
                f"SELECT key, count(DISTINCT article) AS n FROM entities WHERE {' AND '.join(clauses)} "
                "GROUP BY key ORDER BY n DESC, key LIMIT ?", [*params, limit]).fetchall()
            return _with_forms(conn, [(r["key"], r["n"]) for r in top], label)

    def sources(self) -> list[SourceCount]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT source, count(*) AS n, min(published) AS first, max(published) AS last FROM articles "
                "WHERE source IS NOT NULL GROUP BY source ORDER BY n DESC, source").fetchall()
        return [SourceCount(r["source"], r["n"], _date(r["first"]), _date(r["last"])) for r in rows]

    # --- claim lookup candidates ----------------------------------------------------------

    def lexical_candidates(self, query: ParsedQuery, filters: Filters, limit: int,
                           restrict_to: Sequence[SentenceRef] | None = None) -> list[Candidate]:
        expression = fts_expression(query)
        if expression is None or limit <= 0 or (restrict_to is not None and not restrict_to):
            return []
        where, params = _filter_sql(filters)
        if restrict_to is not None:
            where += f" AND s.id IN ({_REFS_TO_IDS})"
            params.append(_refs_json(restrict_to))
        sql = ("SELECT a.id, s.position, bm25(sentences_fts) AS rank FROM sentences_fts "
               "JOIN sentences s ON s.id = sentences_fts.rowid JOIN articles a ON a.pk = s.article "
               f"WHERE sentences_fts MATCH ? AND {where} ORDER BY rank, s.id LIMIT ?")
        with self._read() as conn:
            rows = conn.execute(sql, [expression, *params, limit]).fetchall()
        return [Candidate(SentenceRef(r["id"], r["position"]), -float(r["rank"]) + 0.0) for r in rows]

    def vector_candidates(self, vectors: np.ndarray, filters: Filters, limit: int) -> list[list[Candidate]]:
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim != 2:
            raise ValueError("vectors must be a 2-d array (one row per query)")
        snapshot = self._vector_snapshot()
        found = snapshot.search(queries, self._article_mask(filters), limit)
        return [[Candidate(SentenceRef(a, p), s) for a, p, s in rows] for rows in found]

    def _article_mask(self, filters: Filters) -> vector_index.ArticleMask:
        """``filters`` as article pks: the articles passing the positive filters
        (None if there are none) and the excluded articles."""
        if filters == Filters():
            return vector_index.ArticleMask()
        positive = replace(filters, exclude_articles=())
        with self._read() as conn:
            allowed = None if positive == Filters() else _pks(conn, *_filter_sql(positive))
            excluded = None
            if filters.exclude_articles:
                excluded = _pks(conn, "a.id IN (SELECT value FROM json_each(?))",
                                [json.dumps(list(filters.exclude_articles))])
        return vector_index.ArticleMask(allowed, excluded)

    def _vector_snapshot(self) -> vector_index.VectorSnapshot:
        """The in-memory vectors, synced first if any process wrote since."""
        with self._vector_lock, self._read() as conn:
            token = _token(conn)
            current = self._vectors
            if token != current.token:
                self._vectors = _sync(conn, current, token)
            return self._vectors

    def get_sentences(self, refs: Sequence[SentenceRef]) -> list[StoredSentence]:
        """Served from the read cache where it can be (see ``_ReadCache``):
        one transaction reads the token, resolves article ids unseen under
        this token and loads only sentences not cached yet; vectors are
        copied from the in-memory matrix when it mirrors this snapshot."""
        if not refs:
            return []
        with self._read() as conn:
            token = _token(conn)
            cache = self._read_cache_for(token)
            pks = _resolve_articles(conn, cache, {r.article_id for r in refs})
            keys = [(pks[r.article_id], r.position) for r in refs if pks[r.article_id] is not None]
            found = _cached_sentences(conn, cache, keys)
            facts = [f for f in (found[k] for k in keys) if f is not None]
            vectors = _vectors_of(conn, facts, self._vectors_if_current(conn, token))
        return [StoredSentence(
            ref=SentenceRef(f.article_id, f.position),
            sentence=Sentence(position=f.position, text=f.text, start=f.start, end=f.end,
                              entities=[EntityMention(*m) for m in f.mentions],
                              quantities=[Quantity(*q) for q in f.quantities],
                              stance=Stance(f.stance), speaker=f.speaker, vector=vector),
            title=f.article.title, source=f.article.source, published=f.article.published, url=f.article.url,
            article_hash=f.article.content_hash, article_entities=f.article.entities)
            for f, vector in zip(facts, vectors)]

    def _read_cache_for(self, token: tuple[str, int]) -> _ReadCache:
        """The read cache valid for ``token`` (read in the caller's
        transaction), made anew or carried over as ``_ReadCache`` allows."""
        with self._cache_lock:
            current = self._read_cache
            if (current.token != token or current.file != self._owner
                    or len(current.sentences) >= READ_CACHE_SENTENCES):
                self._read_cache = current = current.moved_to(token, self._owner)
            return current

    def _forget_read_cache(self) -> None:
        with self._cache_lock:
            self._read_cache = _ReadCache.empty()

    def _vectors_if_current(self, conn: sqlite3.Connection,
                            token: tuple[str, int]) -> vector_index.VectorSnapshot | None:
        """The vector matrix as of ``token``, synced if it is behind (already
        loaded and same epoch); None when it was never loaded (get_sentences
        alone does not load every vector) or is ahead of this snapshot."""
        with self._vector_lock:
            current = self._vectors
            if current.token == token:
                return current
            if current.size == 0 or current.token[0] != token[0] or current.token[1] > token[1]:
                return None
            self._vectors = _sync(conn, current, token)
            return self._vectors


# --- the read cache of get_sentences -------------------------------------------------------

#: Sentences the read cache holds at most: about 1.5 KB each with their
#: articles (measured on FA-KES), so ~75 MB, as much as the vectors of as many
#: sentences; past it, the cache starts afresh.
READ_CACHE_SENTENCES = 50_000
_ABSENT = object()


# The cached facts are named tuples of atoms (str, int, float, date, None and
# tuples of those), not dataclasses: CPython stops tracking such tuples in its
# cycle collector once a collection has seen them, so a cache of tens of
# thousands of sentences adds nothing to the full (generation 2) collections.
# With dataclasses there, those collections grew to 100-170 ms after a few
# hundred lookups and made the lookup's p99.


class _ArticleFacts(NamedTuple):
    """What a StoredSentence needs of its article row (all immutable)."""

    title: str
    source: str | None
    published: date | None
    url: str | None
    content_hash: str
    entities: tuple[str, ...]  # article_entities keys, sorted


class _SentenceFacts(NamedTuple):
    """A sentence row with its annotations; ``sentence_id`` and
    ``has_vector`` find its vector. Mentions and quantities are the fields of
    EntityMention / Quantity as tuples, the stance its value."""

    article_id: str
    position: int
    article: _ArticleFacts
    article_pk: int
    sentence_id: int
    text: str
    start: int
    end: int
    stance: str
    speaker: str | None
    mentions: tuple[tuple[str, str, str, int, int], ...]
    quantities: tuple[tuple[float, str, str, str, str, int, int], ...]
    has_vector: bool


@dataclass(frozen=True, slots=True)
class _ReadCache:
    """Decoded rows for ``get_sentences``, per process (after a fork or a
    replaced file, ``file`` differs and it starts afresh).

    Rows are never updated in place: a rewrite deletes the article (its
    sentences and annotations cascade) and inserts it under a new pk, and
    AUTOINCREMENT never hands out a pk twice within one file (epoch). So
    ``articles`` and ``sentences``, keyed by article pk, stay true for the
    whole epoch and carry over to later generations; only ``pks`` (article id
    -> pk, None if absent) belongs to one ``(epoch, generation)`` token. A new
    epoch, an older generation (a restored copy) or another file starts an
    empty cache. Entries are only added (under the GIL, dict assignment is
    atomic), and a reader keeps what it found in its own dicts, so a cache
    replaced under it by another thread does no harm."""

    token: tuple[str, int]
    file: tuple[int, tuple[int, int] | None]
    pks: dict[str, int | None]
    articles: dict[int, _ArticleFacts]
    sentences: dict[tuple[int, int], _SentenceFacts | None]  # (article pk, position); None = no such sentence

    @staticmethod
    def empty(token: tuple[str, int] = ("", -1), file: tuple[int, tuple[int, int] | None] = (0, None)) -> _ReadCache:
        return _ReadCache(token, file, {}, {}, {})

    def moved_to(self, token: tuple[str, int], file: tuple[int, tuple[int, int] | None]) -> _ReadCache:
        same_timeline = (file == self.file and token[0] == self.token[0] and token[1] >= self.token[1]
                         and len(self.sentences) < READ_CACHE_SENTENCES)
        if not same_timeline:
            return _ReadCache.empty(token, file)
        return _ReadCache(token, file, {}, self.articles, self.sentences)


def _resolve_articles(conn: sqlite3.Connection, cache: _ReadCache, ids: set[str]) -> dict[str, int | None]:
    """Article id -> pk (None if absent) for ``ids``; ids not yet resolved
    under the cache's token are read, with the facts of articles not cached."""
    found: dict[str, int | None] = {}
    unknown = []
    for article_id in ids:
        pk = cache.pks.get(article_id, _ABSENT)
        if pk is _ABSENT:
            unknown.append(article_id)
        else:
            found[article_id] = pk  # type: ignore[assignment]
    if not unknown:
        return found
    rows = conn.execute("SELECT pk, id, title, source, published, url, content_hash FROM articles "
                        "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(unknown),)).fetchall()
    new = [r for r in rows if r[0] not in cache.articles]
    keys: dict[int, str] = {}
    if new:  # one JSON list per article: ~3x faster than a row per key; sorted here as SQLite's BINARY order
        keys = dict(conn.execute(
            "SELECT article, json_group_array(key) FROM article_entities "
            "WHERE article IN (SELECT value FROM json_each(?)) GROUP BY article", (json.dumps([r[0] for r in new]),)))
    for pk, article_id, title, source, published, url, content_hash in new:
        cache.articles[pk] = _ArticleFacts(title, source, _date(published), url, content_hash,
                                           tuple(sorted(json.loads(keys[pk]))) if pk in keys else ())
    for article_id in unknown:
        found[article_id] = None
    for row in rows:
        found[row[1]] = row[0]
    for article_id in unknown:
        cache.pks[article_id] = found.get(article_id)
    return found


def _cached_sentences(conn: sqlite3.Connection, cache: _ReadCache, keys: list[tuple[int, int]]
                      ) -> dict[tuple[int, int], _SentenceFacts | None]:
    """Facts of the sentences at (article pk, position) ``keys`` (None where
    there is none), reading the ones not cached."""
    found: dict[tuple[int, int], _SentenceFacts | None] = {}
    missing = []
    for key in keys:
        if key not in found:
            facts = cache.sentences.get(key, _ABSENT)
            if facts is _ABSENT:
                missing.append(key)
                found[key] = None
            else:
                found[key] = facts  # type: ignore[assignment]
    if missing:
        loaded = _load_sentences(conn, cache.articles, missing)
        found.update(loaded)
        cache.sentences.update(loaded)
    return found


def _load_sentences(conn: sqlite3.Connection, articles: dict[int, _ArticleFacts], keys: list[tuple[int, int]]
                    ) -> dict[tuple[int, int], _SentenceFacts | None]:
    """Read the sentences at (article pk, position) ``keys``, whose articles
    are in ``articles``, with their annotations (None where there is none)."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples
    wanted = json.dumps(keys)
    rows = cursor.execute(
        "SELECT s.id, s.article, s.position, s.text, s.start, s.end, s.stance, s.speaker, a.id, "
        "v.sentence IS NOT NULL FROM json_each(?) AS j JOIN sentences s "
        "ON s.article = json_extract(j.value, '$[0]') AND s.position = json_extract(j.value, '$[1]') "
        "JOIN articles a ON a.pk = s.article LEFT JOIN sentence_vectors v ON v.sentence = s.id",
        (wanted,)).fetchall()
    mentions, quantities = _annotation_rows(cursor, wanted)
    loaded: dict[tuple[int, int], _SentenceFacts | None] = dict.fromkeys(keys)
    for sentence_id, pk, position, text, start, end, stance, speaker, article_id, has_vector in rows:
        key = (pk, position)
        loaded[key] = _SentenceFacts(
            article_id, position, articles[pk], pk, sentence_id, text, start, end, Stance(stance).value, speaker,
            tuple((m.text, m.label, m.key, m.start, m.end) for m in mentions[key]),
            tuple((q.value, q.text, q.counts, q.event, q.qualifier, q.start, q.end) for q in quantities[key]),
            bool(has_vector))
    return loaded


def _annotation_rows(cursor: sqlite3.Cursor, wanted: str
                     ) -> tuple[defaultdict[tuple[int, int], list[EntityMention]],
                                defaultdict[tuple[int, int], list[Quantity]]]:
    """``_annotations`` for a JSON list of [pk, position] on a plain-tuple
    cursor (no sqlite3.Row per mention)."""
    mentions: defaultdict[tuple[int, int], list[EntityMention]] = defaultdict(list)
    for article, position, text, label, key, start, end in cursor.execute(
            "SELECT t.article, t.position, t.text, t.label, t.key, t.start, t.end FROM json_each(?) AS j "
            "JOIN entities t ON t.article = json_extract(j.value, '$[0]') "
            "AND t.position = json_extract(j.value, '$[1]') ORDER BY t.rowid", (wanted,)):
        mentions[(article, position)].append(EntityMention(text=text, label=label, key=key, start=start, end=end))
    quantities: defaultdict[tuple[int, int], list[Quantity]] = defaultdict(list)
    for article, position, value, text, counts, event, qualifier, start, end in cursor.execute(
            "SELECT t.article, t.position, t.value, t.text, t.counts, t.event, t.qualifier, t.start, t.end "
            "FROM json_each(?) AS j JOIN quantities t ON t.article = json_extract(j.value, '$[0]') "
            "AND t.position = json_extract(j.value, '$[1]') ORDER BY t.rowid", (wanted,)):
        quantities[(article, position)].append(Quantity(value=value, text=text, counts=counts, event=event,
                                                        qualifier=qualifier, start=start, end=end))
    return mentions, quantities


def _vectors_of(conn: sqlite3.Connection, facts: list[_SentenceFacts],
                snapshot: vector_index.VectorSnapshot | None) -> list[np.ndarray | None]:
    """Each sentence's vector (a fresh writable float32 copy; None if it has
    none), copied from ``snapshot`` where it holds the row for the same
    sentence id, article pk and position, else decoded from its BLOB."""
    out: list[np.ndarray | None] = [None] * len(facts)
    wanted = [i for i, f in enumerate(facts) if f.has_vector]
    if not wanted:
        return out
    if snapshot is not None and snapshot.size:
        buffer, size = snapshot.buffer, snapshot.size
        ids, pks, positions = np.array([(facts[i].sentence_id, facts[i].article_pk, facts[i].position)
                                        for i in wanted], dtype=np.int64).T
        rows = np.minimum(np.searchsorted(buffer.sentence_ids[:size], ids), size - 1)
        ok = ((buffer.sentence_ids[rows] == ids) & snapshot.live[rows] & (buffer.article_pks[rows] == pks)
              & (buffer.positions[rows] == positions))
        copied = buffer.matrix[rows[ok]]  # fancy indexing copies: nothing shares the live matrix
        for i, vector in zip((i for i, good in zip(wanted, ok) if good), copied):
            out[i] = vector
        wanted = [i for i, good in zip(wanted, ok) if not good]
    if wanted:
        blobs = dict(conn.execute("SELECT sentence, vector FROM sentence_vectors "
                                  "WHERE sentence IN (SELECT value FROM json_each(?))",
                                  (json.dumps([facts[i].sentence_id for i in wanted]),)).fetchall())
        for i in wanted:
            blob = blobs.get(facts[i].sentence_id)
            out[i] = from_blob(blob).copy() if blob is not None else None
    return out


# --- helpers that run SQL on a given connection ----------------------------------------

_REFS_TO_IDS = ("SELECT s2.id FROM json_each(?) AS j JOIN articles a2 ON a2.id = json_extract(j.value, '$[0]') "
                "JOIN sentences s2 ON s2.article = a2.pk AND s2.position = json_extract(j.value, '$[1]')")


def _refs_json(refs: Sequence[SentenceRef]) -> str:
    return json.dumps([[ref.article_id, ref.position] for ref in refs])


def _insert_article(conn: sqlite3.Connection, article: Article, content_hash: str) -> None:
    cursor = conn.execute(
        "INSERT INTO articles (id, title, body, source, url, published, language, content_hash, indexed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (article.id, _unmarked(article.title), _unmarked(article.body), article.source, article.url,
         article.published.isoformat() if article.published else None, article.language, content_hash, _now()))
    pk = cursor.lastrowid
    conn.executemany(
        "INSERT INTO sentences (article, position, text, start, end, stance, speaker) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(pk, s.position, _unmarked(s.text), s.start, s.end, Stance(s.stance).value, s.speaker)
         for s in article.sentences])
    conn.executemany(
        "INSERT INTO sentence_vectors (sentence, vector) "
        "SELECT id, ? FROM sentences WHERE article = ? AND position = ?",
        [(to_blob(s.vector), pk, s.position) for s in article.sentences if s.vector is not None])
    conn.executemany(
        "INSERT INTO entities (article, position, key, text, label, start, end) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(pk, s.position, e.key, e.text, e.label, e.start, e.end) for s in article.sentences for e in s.entities])
    conn.executemany(
        "INSERT INTO quantities (article, position, value, text, counts, event, qualifier, start, end) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(pk, s.position, float(q.value), q.text, q.counts, q.event, q.qualifier, q.start, q.end)
         for s in article.sentences for q in s.quantities])
    _insert_article_entities(conn, pk)


def _insert_article_entities(conn: sqlite3.Connection, pk: int) -> None:
    """Roll the article's mentions up per key. With max(n), SQLite takes the
    bare label and text columns from the most frequent (label, text) form."""
    conn.execute(
        "INSERT INTO article_entities (article, key, label, name, mentions) "
        "SELECT article, key, label, text, mentions FROM ("
        "  SELECT article, key, label, text, max(n), sum(n) AS mentions FROM ("
        "    SELECT article, key, label, text, count(*) AS n FROM entities WHERE article = ? "
        "    GROUP BY key, label, text) GROUP BY key)", (pk,))


def _annotations(conn: sqlite3.Connection, keys: list[tuple[int, int]]
                 ) -> tuple[defaultdict[tuple[int, int], list[EntityMention]],
                            defaultdict[tuple[int, int], list[Quantity]]]:
    """Entity mentions and quantities of the given (article pk, position)s."""
    mentions: defaultdict[tuple[int, int], list[EntityMention]] = defaultdict(list)
    quantities: defaultdict[tuple[int, int], list[Quantity]] = defaultdict(list)
    if not keys:
        return mentions, quantities
    wanted = json.dumps(sorted(set(keys)))
    for table, target, convert in (("entities", mentions, _mention), ("quantities", quantities, _quantity)):
        rows = conn.execute(
            f"SELECT t.* FROM json_each(?) AS j JOIN {table} t ON t.article = json_extract(j.value, '$[0]') "
            "AND t.position = json_extract(j.value, '$[1]') ORDER BY t.rowid", (wanted,))
        for row in rows:
            target[(row["article"], row["position"])].append(convert(row))
    return mentions, quantities


def _matched_articles(plan: _Plan, column: str) -> tuple[str, list[Any]]:
    """A condition on an article pk ``column``: the article has a match."""
    if plan.where == "1" and not plan.params:  # everything matches: skip the membership test
        return "1", []
    return f"{column} IN (SELECT a.pk FROM {plan.source} WHERE {plan.where})", plan.params


def _with_forms(conn: sqlite3.Connection, counts: list[tuple[str, int]], label: str | None = None
                ) -> list[EntityCount]:
    """EntityCounts for (key, articles) pairs, each with the label and name
    most articles use for it (among articles using ``label``, if given)."""
    if not counts:
        return []
    forms = conn.execute(
        "SELECT key, label, name, count(*) AS n FROM article_entities "
        "WHERE key IN (SELECT value FROM json_each(?)) GROUP BY key, label, name",
        (json.dumps([key for key, _ in counts]),))
    labels: defaultdict[str, Counter[str]] = defaultdict(Counter)
    names: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for row in forms:
        if label is None or row["label"] == label:
            labels[row["key"]][row["label"]] += row["n"]
            names[row["key"]][row["name"]] += row["n"]
    return [EntityCount(key=key, name=_most_common(names[key]) or key, label=label or _most_common(labels[key]),
                        articles=n) for key, n in counts]


def _most_common(counts: Counter[str]) -> str:
    """The most frequent value; ties go to the alphabetically first."""
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0] if counts else ""


def _pks(conn: sqlite3.Connection, where: str, params: list[Any]) -> np.ndarray:
    """Primary keys of the articles matching ``where`` (over ``articles a``)."""
    listed = conn.execute(f"SELECT json_group_array(a.pk) FROM articles a WHERE {where}", params).fetchone()[0]
    return np.array(json.loads(listed), dtype=np.int64)


def _file_identity(path: Path) -> tuple[int, int]:
    """(device, inode) of the database file: it changes when the file is
    replaced. FileNotFoundError (a StoreUnavailable) when it is gone."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _check_schema_version(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse to set up over a file written with another schema."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return  # no meta table: a new file
    if row is not None and row[0] != SCHEMA_VERSION:
        raise StoreError(f"{path} has schema version {row[0]}; this version needs {SCHEMA_VERSION}: "
                         "move the file away and index again")


def _token(conn: sqlite3.Connection) -> tuple[str, int]:
    values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('epoch', 'generation')").fetchall())
    return str(values["epoch"]), int(values["generation"])


def _sync(conn: sqlite3.Connection, current: vector_index.VectorSnapshot,
          token: tuple[str, int]) -> vector_index.VectorSnapshot:
    """Bring the in-memory vectors up to date with the database.

    Same epoch: drop rows of articles that are gone, append sentences with
    ids above the highest loaded one (ids are never reused). New epoch (a
    fresh or rebuilt file) or an older generation (a restored copy): load
    everything."""
    if current.token[0] != token[0] or token[1] < current.token[1] or current.size == 0:
        return vector_index.load(token, _vector_rows(conn, after=0))
    present = _pks(conn, "1", [])
    return vector_index.update(current, token, present, _vector_rows(conn, after=current.max_sentence_id))


def _vector_rows(conn: sqlite3.Connection, after: int) -> vector_index.VectorRows:
    """Vectors of sentences with ids above ``after``, in id order."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: this reads every vector on a full load
    rows = cursor.execute(
        "SELECT s.id, s.article, a.id, s.position, v.vector FROM sentence_vectors v "
        "JOIN sentences s ON s.id = v.sentence JOIN articles a ON a.pk = s.article "
        "WHERE v.sentence > ? ORDER BY v.sentence", (after,)).fetchall()
    if not rows:
        return vector_index.VectorRows.empty()
    ids, article_pks, article_ids, positions, blobs = zip(*rows)
    matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(rows), len(blobs[0]) // 4)
    return vector_index.VectorRows(
        sentence_ids=np.array(ids, dtype=np.int64), article_pks=np.array(article_pks, dtype=np.int64),
        article_ids=np.array(article_ids, dtype=object), positions=np.array(positions, dtype=np.int32),
        matrix=matrix)
