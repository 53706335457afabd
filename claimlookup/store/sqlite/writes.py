"""Writing articles to SQLite: one ``BEGIN IMMEDIATE`` transaction per
article, so a kill at any moment leaves every article fully old or fully new.

Replacing an article deletes its row (sentences, vectors, entities and
quantities cascade; the FTS triggers follow) and inserts it anew under a new
pk. An unchanged content hash writes nothing. Every write bumps
``meta.generation``, which tells readers in every process that their vector
matrix and read cache are behind. A posted write (through the API) marks the
article in ``posted_articles`` for ``rebuild()`` to carry; while a rebuild
swaps its index in, writes are refused (``refuse_during_swap``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime

from claimlookup.embed import to_blob
from claimlookup.model import Article, Frame, WriteOutcome, WriteStatus
from claimlookup.store.base import StoreRebuilding
from claimlookup.store.common import write_outcome, write_status
from claimlookup.store.sqlite.fts import unmarked

#: ``meta`` key: until this Unix time, a rebuild is swapping its index in.
SWAP_KEY = "rebuild_swap_until"


def write_article(conn: sqlite3.Connection, article: Article, posted: bool = False) -> WriteOutcome:
    """Write an analysed ``article`` (see ``common.require_sentences``) in its
    own transaction on ``conn``, which must not be in one. ``posted``: it came
    through the API (``rebuild()`` carries it)."""
    content_hash = article.content_hash
    conn.execute("BEGIN IMMEDIATE")
    refuse_during_swap(conn)
    row = conn.execute("SELECT pk, content_hash FROM articles WHERE id = ?", (article.id,)).fetchone()
    status = write_status(row["content_hash"] if row is not None else None, content_hash)
    if status is WriteStatus.UNCHANGED:
        conn.execute("COMMIT")
        return write_outcome(article, status)
    if row is not None:
        conn.execute("DELETE FROM articles WHERE pk = ?", (row["pk"],))
    pk = insert_article(conn, article, content_hash)
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    if posted:
        mark_posted(conn, pk)
    conn.execute("COMMIT")
    return write_outcome(article, status)


def carry_article(conn: sqlite3.Connection, article: Article, content_hash: str) -> None:
    """Write a posted article copied from another store (``rebuild()``),
    replacing any article with its id, keeping its content hash."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM articles WHERE id = ?", (article.id,))
    pk = insert_article(conn, article, content_hash)
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    mark_posted(conn, pk)
    conn.execute("COMMIT")


def mark_posted(conn: sqlite3.Connection, pk: int) -> None:
    """Mark article ``pk`` as posted at the current generation."""
    conn.execute("INSERT OR REPLACE INTO posted_articles (article, generation) "
                 "SELECT ?, value FROM meta WHERE key = 'generation'", (pk,))


def refuse_during_swap(conn: sqlite3.Connection) -> None:
    """Raise ``StoreRebuilding`` while a rebuild swaps its index in (the
    caller is in a write transaction; the rebuild read the posted articles to
    carry already, so a write now would be lost). The mark is a deadline: a
    rebuild killed in its swap blocks writes for ``SWAP_WINDOW_S`` at most."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (SWAP_KEY,)).fetchone()
    if row is not None and float(row[0]) > time.time():
        raise StoreRebuilding("a rebuilt index is being swapped in; writes are refused for a few seconds")


def insert_article(conn: sqlite3.Connection, article: Article, content_hash: str) -> int:
    """Insert the article and everything derived from it; return its pk."""
    cursor = conn.execute(
        "INSERT INTO articles (id, title, body, source, url, published, language, content_hash, indexed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (article.id, unmarked(article.title), unmarked(article.body), article.source, article.url,
         article.published.isoformat() if article.published else None, article.language, content_hash, _now()))
    pk = cursor.lastrowid
    assert pk is not None  # set by the INSERT
    conn.executemany(
        "INSERT INTO sentences (article, position, text, start, end, stance, speaker) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(pk, s.position, unmarked(s.text), s.start, s.end, Frame(s.stance).value, s.speaker)
         for s in article.sentences])
    conn.executemany(
        "INSERT INTO sentence_vectors (sentence, vector) "
        "SELECT id, ? FROM sentences WHERE article = ? AND position = ?",
        [(to_blob(s.vector), pk, s.position) for s in article.sentences if s.vector is not None])
    conn.executemany(
        "INSERT INTO entities (article, position, key, text, label, start, end) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(pk, s.position, e.key, e.text, e.label, e.start, e.end) for s in article.sentences for e in s.entities])
    conn.executemany(
        "INSERT INTO quantities (article, position, value, text, counts, event, qualifier, start, end, scope) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(pk, s.position, float(q.value), q.text, q.counts, q.event, q.qualifier, q.start, q.end, q.scope)
         for s in article.sentences for q in s.quantities])
    insert_article_entities(conn, pk)
    return pk


def insert_article_entities(conn: sqlite3.Connection, pk: int) -> None:
    """Roll the article's mentions up per key. With max(n), SQLite takes the
    bare label and text columns from the most frequent (label, text) form."""
    conn.execute(
        "INSERT INTO article_entities (article, key, label, name, mentions) "
        "SELECT article, key, label, text, mentions FROM ("
        "  SELECT article, key, label, text, max(n), sum(n) AS mentions FROM ("
        "    SELECT article, key, label, text, count(*) AS n FROM entities WHERE article = ? "
        "    GROUP BY key, label, text) GROUP BY key)", (pk,))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def rekey_entities(conn: sqlite3.Connection, version: str, key_of: Callable[[str, str], str]) -> int:
    """Recompute the stored entity keys with ``key_of(text, label)`` when they
    were written under another entity-key version (``meta.entity_keys``), and
    roll up ``article_entities`` again for the articles that changed. Returns
    the number of articles re-keyed (0 when the version is current)."""
    if stored_entity_keys_version(conn) == version:
        return 0
    changes = [(new, text, label, key) for text, label, key in
               conn.execute("SELECT DISTINCT text, label, key FROM entities").fetchall()
               if (new := key_of(text, label)) != key]
    conn.executemany("UPDATE entities SET key = ? WHERE text = ? AND label = ? AND key = ?", changes)
    articles = [r[0] for r in conn.execute(
        "SELECT DISTINCT article FROM entities WHERE key IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted({c[0] for c in changes})),))]
    for pk in articles:
        conn.execute("DELETE FROM article_entities WHERE article = ?", (pk,))
        insert_article_entities(conn, pk)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('entity_keys', ?)", (version,))
    return len(articles)


def stored_entity_keys_version(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'entity_keys'").fetchone()
    return None if row is None else str(row[0])
