"""The search read model on SQLite: full-text search pages (BM25, snippets,
facets), the entity catalogue and the sources. Each function runs on a
connection inside the caller's read transaction.

Article level ranks ``articles_fts`` (title weight 3, body 1); sentence level
ranks ``sentences_fts`` (titles are sentence 0). Scores are ``-bm25()``.
Snippets come from a second query over the page's rowids only: in the page
query, SQLite would evaluate highlight()/snippet() for every match before
``ORDER BY ... LIMIT``.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from claimlookup import caches
from claimlookup.model import (
    EntityCount,
    FacetCount,
    Facets,
    Filters,
    SearchHit,
    SearchPage,
    SearchRequest,
    SourceCount,
)
from claimlookup.store.common import LEAD_CHARS, lead_snippet, parse_date, spellings_by_key
from claimlookup.store.sqlite.fts import fts_exclusion, fts_expression, markup, snippet_sql
from claimlookup.store.sqlite.rows import filter_sql

TITLE_WEIGHT, BODY_WEIGHT = 3.0, 1.0
FACET_LIMIT = 20
#: The entity facet counts the articles of at most this many hits, the best
#: ranked (a listing: the newest), when more match (``Facets.entities_sample``).
#: Grouping every entity row of every match grew with the archive: at 1M
#: sentences a two-word query matching 2,749 OCR'd front pages grouped 456,594
#: rows (340 ms), a listing of all 32,011 articles 817,836 (docs/benchmarks.md).
ENTITY_FACET_SAMPLE = 200


@dataclass(frozen=True, slots=True)
class Plan:
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
    #: Article level, a query to match and no filter: the FTS5 table alone
    #: counts, ranks and cuts the hits, and only the page's rows are joined
    #: to ``articles`` (every FTS row is one article: triggers keep them in
    #: step). The same answers; at a million sentences a common two-word
    #: query counted and ranked every match through the join (p99 30 ms for
    #: the count alone instead of 1 ms).
    fts_only: bool = False


def search_plan(request: SearchRequest) -> Plan:
    where, params = filter_sql(request.filters)
    query = request.query
    expression = fts_expression(query)
    sentence_level = request.level == "sentence"
    fts = "sentences_fts" if sentence_level else "articles_fts"
    if sentence_level:
        source = "sentences s JOIN articles a ON a.pk = s.article"
        key, position, text = "s.id", "s.position", "s.text"
        rank = "bm25(sentences_fts)"
    else:
        source, key, position, text = "articles a", "a.pk", "NULL", f"substr(a.body, 1, {LEAD_CHARS * 2})"
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
    fts_only = bool(expression) and not sentence_level and request.filters == Filters()
    return Plan(source, where, params, rank, key, position, text, fts, expression, fts_only)


def order_by(request: SearchRequest) -> str:
    tie = "a.pk, s.position" if request.level == "sentence" else "a.pk"
    if request.sort == "date":
        return f"a.published IS NULL, a.published DESC, rank, {tie}"
    if request.query.is_empty:
        return f"a.published IS NULL, a.published DESC, {tie}"
    return f"rank, {tie}"


def search_page(conn: sqlite3.Connection, request: SearchRequest, forms: FormsMemo | None = None) -> SearchPage:
    """A validated request's page, total and facets, from one snapshot
    (``forms``: see ``with_forms``)."""
    plan = search_plan(request)
    if plan.fts_only:
        total = conn.execute(f"SELECT count(*) FROM {plan.fts} WHERE {plan.fts} MATCH ?",
                             [plan.expression]).fetchone()[0]
    else:
        total = conn.execute(f"SELECT count(*) FROM {plan.source} WHERE {plan.where}", plan.params).fetchone()[0]
    hits = page(conn, plan, request) if total else []
    facets = (search_facets(conn, plan, sampled_articles(conn, plan, request, total), forms) if request.facets
              else Facets())
    return SearchPage(total=total, hits=hits, facets=facets)


def sampled_articles(conn: sqlite3.Connection, plan: Plan, request: SearchRequest, total: int) -> list[int] | None:
    """The article pks of the ``ENTITY_FACET_SAMPLE`` best hits (by relevance,
    whatever the page's sort; a listing's newest), or None when no more hits
    than that match (the facet is then over all of them)."""
    if total <= ENTITY_FACET_SAMPLE:
        return None
    if plan.fts_only:
        rows = conn.execute(f"SELECT rowid, {plan.rank} AS weighted FROM {plan.fts} WHERE {plan.fts} MATCH ? "
                            "ORDER BY weighted, rowid LIMIT ?", [plan.expression, ENTITY_FACET_SAMPLE]).fetchall()
        return list(dict.fromkeys(row[0] for row in rows))
    order = order_by(replace(request, sort="relevance"))
    rows = conn.execute(f"SELECT a.pk, {plan.rank} AS rank FROM {plan.source} WHERE {plan.where} "
                        f"ORDER BY {order} LIMIT ?",
                        [*plan.params, ENTITY_FACET_SAMPLE]).fetchall()
    return list(dict.fromkeys(row[0] for row in rows))


def page(conn: sqlite3.Connection, plan: Plan, request: SearchRequest) -> list[SearchHit]:
    text = "NULL" if plan.expression else plan.listing_text
    offset = (request.page - 1) * request.size
    if plan.fts_only and request.sort == "relevance":
        # (``weighted``, not ``rank``: an FTS5 table has a hidden column of that name.)
        sql = (f"SELECT f.key AS key, a.id, a.title, a.source, a.published, a.url, f.weighted AS rank, "
               f"NULL AS position, NULL AS text FROM (SELECT rowid AS key, {plan.rank} AS weighted "
               f"FROM {plan.fts} WHERE {plan.fts} MATCH ? ORDER BY weighted, rowid LIMIT ? OFFSET ?) f "
               "JOIN articles a ON a.pk = f.key ORDER BY f.weighted, f.key")
        rows = conn.execute(sql, [plan.expression, request.size, offset]).fetchall()
    else:
        sql = (f"SELECT {plan.key} AS key, a.id, a.title, a.source, a.published, a.url, {plan.rank} AS rank, "
               f"{plan.position} AS position, {text} AS text "
               f"FROM {plan.source} WHERE {plan.where} ORDER BY {order_by(request)} LIMIT ? OFFSET ?")
        rows = conn.execute(sql, [*plan.params, request.size, offset]).fetchall()
    if plan.expression and rows:
        marked = dict(conn.execute(snippet_sql(plan.fts), (plan.expression, json.dumps([r["key"] for r in rows]))))
        snippets = [markup(marked.get(r["key"], "")) for r in rows]
    else:
        snippets = [lead_snippet(r["text"]) for r in rows]
    return [SearchHit(article_id=r["id"], title=r["title"], source=r["source"],
                      published=parse_date(r["published"]), url=r["url"], score=-float(r["rank"]) + 0.0,
                      snippet=snippet, sentence_position=r["position"])
            for r, snippet in zip(rows, snippets, strict=True)]


def search_facets(conn: sqlite3.Connection, plan: Plan, sample: list[int] | None = None,
                  forms: FormsMemo | None = None) -> Facets:
    """Sources and months, each counting articles over all matches; entities
    the same, or over the articles ``sample`` (pks) when given."""
    matched, params = matched_articles(plan, "pk")
    sources = conn.execute(
        f"SELECT source, count(*) AS n FROM articles WHERE {matched} AND source IS NOT NULL "
        "GROUP BY source ORDER BY n DESC, source LIMIT ?", [*params, FACET_LIMIT])
    months = conn.execute(
        f"SELECT substr(published, 1, 7) AS month, count(*) AS n FROM articles "
        f"WHERE {matched} AND published IS NOT NULL GROUP BY month ORDER BY month", params)
    if sample is None:
        matched, params = matched_articles(plan, "article")
    else:
        matched, params = "article IN (SELECT value FROM json_each(?))", [json.dumps(sample)]
    top = conn.execute(f"SELECT key, count(*) AS n FROM article_entities WHERE {matched} "
                       "GROUP BY key ORDER BY n DESC, key LIMIT ?", [*params, FACET_LIMIT]).fetchall()
    entities = with_forms(conn, [(r["key"], r["n"]) for r in top], forms=forms)
    return Facets(
        sources=[FacetCount(r["source"], r["n"]) for r in sources],
        entities=[FacetCount(e.key, e.articles, label=e.label, name=e.name) for e in entities],
        months=[FacetCount(r["month"], r["n"]) for r in months],
        entities_sample=None if sample is None else len(sample),
    )


def matched_articles(plan: Plan, column: str) -> tuple[str, list[Any]]:
    """A condition on an article pk ``column``: the article has a match."""
    if plan.where == "1" and not plan.params:  # everything matches: skip the membership test
        return "1", []
    if plan.fts_only:
        return f"{column} IN (SELECT rowid FROM {plan.fts} WHERE {plan.fts} MATCH ?)", [plan.expression]
    return f"{column} IN (SELECT a.pk FROM {plan.source} WHERE {plan.where})", plan.params


# --- the catalogue -----------------------------------------------------------------


def entity_counts(conn: sqlite3.Connection, prefix: str, label: str | None, limit: int,
                  forms: FormsMemo | None = None) -> list[EntityCount]:
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
    top = conn.execute(
        f"SELECT key, count(DISTINCT article) AS n FROM entities WHERE {' AND '.join(clauses)} "
        "GROUP BY key ORDER BY n DESC, key LIMIT ?", [*params, limit]).fetchall()
    return with_forms(conn, [(r["key"], r["n"]) for r in top], label, forms)


def entity_spellings(conn: sqlite3.Connection, keys: Sequence[str], limit: int) -> dict[str, list[str]]:
    """Distinct written names of each key, compared without case (shown in
    the casing most articles use; on a tie, not in capitals), most articles
    first, then alphabetical."""
    if not keys:
        return {}
    rows = conn.execute(
        "SELECT key, text, count(DISTINCT article) AS n FROM entities "
        "WHERE key IN (SELECT value FROM json_each(?)) GROUP BY key, text",
        [json.dumps(sorted(set(keys)))]).fetchall()
    return spellings_by_key([(row["key"], row["text"], row["n"]) for row in rows], limit)


def source_counts(conn: sqlite3.Connection) -> list[SourceCount]:
    rows = conn.execute(
        "SELECT source, count(*) AS n, min(published) AS first, max(published) AS last FROM articles "
        "WHERE source IS NOT NULL GROUP BY source ORDER BY n DESC, source").fetchall()
    return [SourceCount(r["source"], r["n"], parse_date(r["first"]), parse_date(r["last"])) for r in rows]


def with_forms(conn: sqlite3.Connection, counts: list[tuple[str, int]], label: str | None = None,
               forms: FormsMemo | None = None) -> list[EntityCount]:
    """EntityCounts for (key, articles) pairs, each with the label and name
    most articles use for it (among articles using ``label``, if given).
    ``forms`` remembers each key's forms for one snapshot of the store (the
    caller's memo for the token it read): a key's forms count every article
    that names it, thousands of rows for a common key at a million sentences."""
    if not counts:
        return []
    found = key_forms(conn, [key for key, _ in counts], forms)
    labels: defaultdict[str, Counter[str]] = defaultdict(Counter)
    names: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for key, _ in counts:
        for form_label, name, n in found[key]:
            if label is None or form_label == label:
                labels[key][form_label] += n
                names[key][name] += n
    return [EntityCount(key=key, name=most_common(names[key]) or key, label=label or most_common(labels[key]),
                        articles=n) for key, n in counts]


#: A key's forms: (label, name, articles) rows of ``article_entities``.
FormRows = tuple[tuple[str, str, int], ...]
#: Forms per key, valid for one snapshot (see ``SQLiteStore._forms_for``).
FormsMemo = dict[str, FormRows]
#: Keys a memo holds at most (caches.ENTITY_FORMS; it lives one snapshot, and
#: threads share it, so it is only ever added to).
FORMS_MEMO_KEYS = caches.bound(caches.ENTITY_FORMS) or 0  # declared with a count (0 would hold nothing)


def key_forms(conn: sqlite3.Connection, keys: Sequence[str], forms: FormsMemo | None = None) -> dict[str, FormRows]:
    """Each key's forms, read for the keys ``forms`` does not hold yet."""
    memo: FormsMemo = {} if forms is None else forms
    found = {key: held for key in keys if (held := memo.get(key)) is not None}
    missing = sorted({key for key in keys if key not in found})
    if missing:
        rows: defaultdict[str, list[tuple[str, str, int]]] = defaultdict(list)
        for row in conn.execute(
                "SELECT key, label, name, count(*) AS n FROM article_entities "
                "WHERE key IN (SELECT value FROM json_each(?)) GROUP BY key, label, name", (json.dumps(missing),)):
            rows[row["key"]].append((row["label"], row["name"], row["n"]))
        for key in missing:
            found[key] = tuple(rows[key])
            if len(memo) < FORMS_MEMO_KEYS:  # a full memo stays as it is until its snapshot ends
                memo[key] = found[key]
    return found


def most_common(counts: Counter[str]) -> str:
    """The most frequent value; ties go to the alphabetically first."""
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0] if counts else ""
