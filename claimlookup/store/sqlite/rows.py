"""SQL that every kind of read shares: filters as a WHERE fragment, lists of
sentence refs and article pks bound as JSON, and rows turned into domain
objects (sentences with their entity mentions and quantities).

Lists are always bound as one JSON parameter (``json_each``), so there is no
limit on how many values a filter or a ref list holds.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from claimlookup.embed import from_blob
from claimlookup.model import EntityMention, Filters, Frame, Quantity, Sentence, SentenceRef

#: The sentence ids of a JSON list of [article id, position] refs.
REFS_TO_IDS = ("SELECT s2.id FROM json_each(?) AS j JOIN articles a2 ON a2.id = json_extract(j.value, '$[0]') "
               "JOIN sentences s2 ON s2.article = a2.pk AND s2.position = json_extract(j.value, '$[1]')")

#: Annotations of (article pk, position) keys, in insertion order.
Annotations = tuple[defaultdict[tuple[int, int], list[EntityMention]], defaultdict[tuple[int, int], list[Quantity]]]


def filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A WHERE fragment over ``articles a`` for ``filters``, with its params."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.sources:
        # Outlet names match whatever their case (source=reuters finds Reuters).
        clauses.append("a.source COLLATE NOCASE IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(filters.sources)))
    if filters.date_from:
        clauses.append("a.published >= ?")
        params.append(filters.date_from.isoformat())
    if filters.date_to:
        clauses.append("a.published <= ?")
        params.append(filters.date_to.isoformat())
    if filters.entities:
        from claimlookup import nlp  # spaCy is imported only when an entity filter is used

        for key in filters.entities:  # any spelling of an entity finds all of them (the key as given too)
            clauses.append("EXISTS (SELECT 1 FROM article_entities ae WHERE ae.article = a.pk AND ae.key IN (?, ?))")
            params += [key, nlp.canonical_key(key)]
    if filters.exclude_articles:
        clauses.append("a.id NOT IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(filters.exclude_articles)))
    return " AND ".join(clauses) or "1", params


def refs_json(refs: Sequence[SentenceRef]) -> str:
    return json.dumps([[ref.article_id, ref.position] for ref in refs])


def pks(conn: sqlite3.Connection, where: str, params: list[Any]) -> np.ndarray:
    """Primary keys of the articles matching ``where`` (over ``articles a``)."""
    listed = conn.execute(f"SELECT json_group_array(a.pk) FROM articles a WHERE {where}", params).fetchone()[0]
    return np.array(json.loads(listed), dtype=np.int64)


# --- rows -> domain -------------------------------------------------------------


def mention(row: sqlite3.Row) -> EntityMention:
    return EntityMention(text=row["text"], label=row["label"], key=row["key"], start=row["start"], end=row["end"])


def quantity(row: sqlite3.Row) -> Quantity:
    return Quantity(value=row["value"], text=row["text"], counts=row["counts"], event=row["event"],
                    qualifier=row["qualifier"], start=row["start"], end=row["end"], scope=row["scope"])


def sentence(row: sqlite3.Row, mentions: list[EntityMention], quantities: list[Quantity],
             with_vector: bool) -> Sentence:
    vector = from_blob(row["vector"]).copy() if with_vector and row["vector"] is not None else None
    return Sentence(position=row["position"], text=row["text"], start=row["start"], end=row["end"],
                    entities=mentions, quantities=quantities, stance=Frame(row["stance"]),
                    speaker=row["speaker"], vector=vector)


def sentence_annotations(conn: sqlite3.Connection, keys: list[tuple[int, int]]) -> Annotations:
    """Entity mentions and quantities of the given (article pk, position)s."""
    mentions: defaultdict[tuple[int, int], list[EntityMention]] = defaultdict(list)
    quantities: defaultdict[tuple[int, int], list[Quantity]] = defaultdict(list)
    if not keys:
        return mentions, quantities
    wanted = json.dumps(sorted(set(keys)))
    for row in _rows_at(conn, "entities", wanted):
        mentions[(row["article"], row["position"])].append(mention(row))
    for row in _rows_at(conn, "quantities", wanted):
        quantities[(row["article"], row["position"])].append(quantity(row))
    return mentions, quantities


def _rows_at(conn: sqlite3.Connection, table: str, wanted: str) -> sqlite3.Cursor:
    """Rows of ``table`` ("entities" or "quantities") at the JSON list of [pk, position] ``wanted``."""
    return conn.execute(
        f"SELECT t.* FROM json_each(?) AS j JOIN {table} t ON t.article = json_extract(j.value, '$[0]') "
        "AND t.position = json_extract(j.value, '$[1]') ORDER BY t.rowid", (wanted,))
