"""The read cache of ``get_sentences``: decoded sentences and article facts
kept in memory per process, keyed by article pk, and the queries that fill it.

The lookup fetches ~100-150 sentences per claim; decoding those rows was
~9 ms of a ~50 ms lookup. Rows are never updated in place (a rewrite deletes
the article and inserts it under a new pk, never reused within one file), so
only the article id -> pk map can go stale; it belongs to one
``meta.(epoch, generation)`` token (see ``ReadCache``). Vectors are copied
from the in-memory matrix when it mirrors the reader's snapshot, otherwise
decoded from their BLOBs. Details and figures: ``docs/store-sqlite.md``.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import numpy as np

from claimlookup.embed import from_blob
from claimlookup.model import EntityMention, Frame, Quantity, Sentence, SentenceRef, StoredSentence
from claimlookup.store import vectors as vector_index
from claimlookup.store.common import parse_date
from claimlookup.store.sqlite.connection import Owner, Token
from claimlookup.store.sqlite.rows import Annotations

#: Bytes the read cache holds at most, by its own estimate (``sentence_bytes``,
#: ``article_bytes``: within 3 % of what tracemalloc traced on FA-KES, 1.7 KB a
#: sentence with its article); past it, the cache starts afresh. A count bound
#: (50,000 sentences, ~75 MB on FA-KES) let OCR'd pages of long sentences and
#: ~170 entity keys an article fill ~170 MB per worker; 64 MiB holds the
#: default corpus whole (~18 MB) and ~20,000 such sentences.
READ_CACHE_BYTES = 64 * 1024 * 1024


class _Absent(enum.Enum):
    """Marks what the cache does not hold (None there means "known to be absent");
    an enum member, so that type checkers narrow it out."""

    ABSENT = enum.auto()


_ABSENT = _Absent.ABSENT


# The cached facts are named tuples of atoms (str, int, float, date, None and
# tuples of those), not dataclasses: CPython stops tracking such tuples in its
# cycle collector once a collection has seen them, so a cache of tens of
# thousands of sentences adds nothing to the full (generation 2) collections.
# With dataclasses there, those collections grew to 100-170 ms after a few
# hundred lookups and made the lookup's p99.


class ArticleFacts(NamedTuple):
    """What a StoredSentence needs of its article row (all immutable)."""

    title: str
    source: str | None
    published: date | None
    url: str | None
    content_hash: str
    entities: tuple[str, ...]  # article_entities keys, sorted


class SentenceFacts(NamedTuple):
    """A sentence row with its annotations; ``sentence_id`` and
    ``has_vector`` find its vector. Mentions and quantities are the fields of
    EntityMention / Quantity as tuples, the stance its value."""

    article_id: str
    position: int
    article: ArticleFacts
    article_pk: int
    sentence_id: int
    text: str
    start: int
    end: int
    stance: str
    speaker: str | None
    mentions: tuple[tuple[str, str, str, int, int], ...]
    quantities: tuple[tuple[float, str, str, str, str, int, int, str], ...]
    has_vector: bool


@dataclass(frozen=True, slots=True)
class ReadCache:
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

    token: Token
    file: Owner
    pks: dict[str, int | None]
    articles: dict[int, ArticleFacts]
    sentences: dict[tuple[int, int], SentenceFacts | None]  # (article pk, position); None = no such sentence
    #: [estimated bytes of ``articles`` and ``sentences``]; threads add to it
    #: without a lock, so a race may drop an addition: an estimate either way.
    held: list[int]

    @staticmethod
    def empty(token: Token = ("", -1), file: Owner = (0, None)) -> ReadCache:
        return ReadCache(token, file, {}, {}, {}, [0])

    @property
    def full(self) -> bool:
        return self.held[0] >= READ_CACHE_BYTES

    def moved_to(self, token: Token, file: Owner) -> ReadCache:
        same_timeline = (file == self.file and token[0] == self.token[0] and token[1] >= self.token[1]
                         and not self.full)
        if not same_timeline:
            return ReadCache.empty(token, file)
        return ReadCache(token, file, {}, self.articles, self.sentences, self.held)

    def is_for(self, token: Token, file: Owner) -> bool:
        """Valid for a reader at ``token`` on ``file``, and not full."""
        return self.token == token and self.file == file and not self.full


def sentence_bytes(facts: SentenceFacts | None) -> int:
    """About what one cached sentence costs (its tuple, strings, annotations
    and dict entry); CPython's sizes, calibrated with tracemalloc on FA-KES."""
    if facts is None:
        return 150
    return 500 + len(facts.text) + 280 * len(facts.mentions) + 350 * len(facts.quantities)


def article_bytes(facts: ArticleFacts) -> int:
    """About what one cached article costs (its facts and entity keys)."""
    return 500 + len(facts.title) + len(facts.url or "") + 70 * len(facts.entities)


def resolve_articles(conn: sqlite3.Connection, cache: ReadCache, ids: set[str]) -> dict[str, int | None]:
    """Article id -> pk (None if absent) for ``ids``; ids not yet resolved
    under the cache's token are read, with the facts of articles not cached."""
    found: dict[str, int | None] = {}
    unknown = []
    for article_id in ids:
        pk = cache.pks.get(article_id, _ABSENT)
        if pk is _ABSENT:
            unknown.append(article_id)
        else:
            found[article_id] = pk
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
    added = 0
    for pk, _article_id, title, source, published, url, content_hash in new:
        facts = ArticleFacts(title, source, parse_date(published), url, content_hash,
                             tuple(sorted(json.loads(keys[pk]))) if pk in keys else ())
        cache.articles[pk] = facts
        added += article_bytes(facts)
    cache.held[0] += added
    for article_id in unknown:
        found[article_id] = None
    for row in rows:
        found[row[1]] = row[0]
    for article_id in unknown:
        cache.pks[article_id] = found.get(article_id)
    return found


def cached_sentences(conn: sqlite3.Connection, cache: ReadCache, keys: list[tuple[int, int]]
                     ) -> dict[tuple[int, int], SentenceFacts | None]:
    """Facts of the sentences at (article pk, position) ``keys`` (None where
    there is none), reading the ones not cached."""
    found: dict[tuple[int, int], SentenceFacts | None] = {}
    missing = []
    for key in keys:
        if key not in found:
            facts = cache.sentences.get(key, _ABSENT)
            if facts is _ABSENT:
                missing.append(key)
                found[key] = None
            else:
                found[key] = facts
    if missing:
        loaded = load_sentences(conn, cache.articles, missing)
        found.update(loaded)
        cache.sentences.update(loaded)
        cache.held[0] += sum(sentence_bytes(f) for f in loaded.values())
    return found


def load_sentences(conn: sqlite3.Connection, articles: dict[int, ArticleFacts], keys: list[tuple[int, int]]
                   ) -> dict[tuple[int, int], SentenceFacts | None]:
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
    mentions, quantities = annotation_rows(cursor, wanted)
    loaded: dict[tuple[int, int], SentenceFacts | None] = dict.fromkeys(keys)
    for sentence_id, pk, position, text, start, end, stance, speaker, article_id, has_vector in rows:
        key = (pk, position)
        loaded[key] = SentenceFacts(
            article_id, position, articles[pk], pk, sentence_id, text, start, end, Frame(stance).value, speaker,
            tuple((m.text, m.label, m.key, m.start, m.end) for m in mentions[key]),
            tuple((q.value, q.text, q.counts, q.event, q.qualifier, q.start, q.end, q.scope) for q in quantities[key]),
            bool(has_vector))
    return loaded


def annotation_rows(cursor: sqlite3.Cursor, wanted: str) -> Annotations:
    """``rows.sentence_annotations`` for a JSON list of [pk, position] on a plain-tuple
    cursor (no sqlite3.Row per mention)."""
    mentions: defaultdict[tuple[int, int], list[EntityMention]] = defaultdict(list)
    for article, position, text, label, key, start, end in cursor.execute(
            "SELECT t.article, t.position, t.text, t.label, t.key, t.start, t.end FROM json_each(?) AS j "
            "JOIN entities t ON t.article = json_extract(j.value, '$[0]') "
            "AND t.position = json_extract(j.value, '$[1]') ORDER BY t.rowid", (wanted,)):
        mentions[(article, position)].append(EntityMention(text=text, label=label, key=key, start=start, end=end))
    quantities: defaultdict[tuple[int, int], list[Quantity]] = defaultdict(list)
    for article, position, value, text, counts, event, qualifier, start, end, scope in cursor.execute(
            "SELECT t.article, t.position, t.value, t.text, t.counts, t.event, t.qualifier, t.start, t.end, t.scope "
            "FROM json_each(?) AS j JOIN quantities t ON t.article = json_extract(j.value, '$[0]') "
            "AND t.position = json_extract(j.value, '$[1]') ORDER BY t.rowid", (wanted,)):
        quantities[(article, position)].append(Quantity(value=value, text=text, counts=counts, event=event,
                                                        qualifier=qualifier, start=start, end=end, scope=scope))
    return mentions, quantities


def vectors_of(conn: sqlite3.Connection, facts: list[SentenceFacts],
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
        for i, vector in zip((i for i, good in zip(wanted, ok, strict=True) if good), copied, strict=True):
            out[i] = vector
        wanted = [i for i, good in zip(wanted, ok, strict=True) if not good]
    if wanted:
        blobs = dict(conn.execute("SELECT sentence, vector FROM sentence_vectors "
                                  "WHERE sentence IN (SELECT value FROM json_each(?))",
                                  (json.dumps([facts[i].sentence_id for i in wanted]),)).fetchall())
        for i in wanted:
            blob = blobs.get(facts[i].sentence_id)
            out[i] = from_blob(blob).copy() if blob is not None else None
    return out


def stored_sentences(facts: list[SentenceFacts], vectors: list[np.ndarray | None]) -> list[StoredSentence]:
    """Fresh domain objects from cached facts (callers never share the cache's)."""
    return [StoredSentence(
        ref=SentenceRef(f.article_id, f.position),
        sentence=Sentence(position=f.position, text=f.text, start=f.start, end=f.end,
                          entities=[EntityMention(*m) for m in f.mentions],
                          quantities=[Quantity(*q) for q in f.quantities],
                          stance=Frame(f.stance), speaker=f.speaker, vector=vector),
        title=f.article.title, source=f.article.source, published=f.article.published, url=f.article.url,
        article_hash=f.article.content_hash, article_entities=f.article.entities)
        for f, vector in zip(facts, vectors, strict=True)]
