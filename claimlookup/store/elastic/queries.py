"""The query DSL: every request body the adapter sends to search, built by
pure functions from domain objects (``ParsedQuery``, ``Filters``,
``SearchRequest``). All of the adapter's query DSL lives here and nowhere else;
``tests/test_elastic_unit.py`` pins the bodies exactly.

User text is only ever a ``query`` value (never ``query_string``), so
``title:x``, ``*``, ``NEAR(`` or quotes are plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from claimlookup.model import Filters, ParsedQuery, SearchRequest, SentenceRef, Term
from claimlookup.store.base import MAX_RESULT_WINDOW  # index.max_result_window in es-mapping.json
from claimlookup.store.common import validate_search_request
from claimlookup.store.elastic.documents import sentence_ref_key
from claimlookup.store.elastic.indices import Body, IndexNames

MAX_KNN_CANDIDATES = 10_000  # Elasticsearch's cap on num_candidates
MIN_KNN_CANDIDATES = 100
KNN_OVERSAMPLING = 4
FACET_SIZE = 20
MAX_SOURCES = 10_000
SNIPPET_CHARS = 200  # highlighted body fragment

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
ARTICLE_HIT_FIELDS = ["article_id", "title", "source", "published", "url"]
SENTENCE_HIT_FIELDS = ["article_id", "article_hash", "position", "text", "title", "source", "published", "url"]
CANDIDATE_FIELDS = ["article_id", "position", "article_hash"]
#: The specification's ``ScoreSort`` form (``{"_score": "desc"}`` is a shorthand typed clients refuse).
SCORE_DESC: Body = {"_score": {"order": "desc"}}


# --- search: query compilation -----------------------------------------------


def term_clause(term: Term, fields: Sequence[str]) -> Body:
    """A word (every token must match) or an exact phrase, over one or more fields."""
    if len(fields) == 1:
        if term.phrase:
            return {"match_phrase": {fields[0]: {"query": term.text}}}
        return {"match": {fields[0]: {"query": term.text, "operator": "and"}}}
    if term.phrase:
        return {"multi_match": {"query": term.text, "fields": list(fields), "type": "phrase"}}
    return {"multi_match": {"query": term.text, "fields": list(fields), "type": "best_fields", "operator": "and"}}


def group_clause(group: Sequence[Term], fields: Sequence[str]) -> Body:
    """Alternatives: the group matches if any of its terms does."""
    if len(group) == 1:
        return term_clause(group[0], fields)
    return {"bool": {"should": [term_clause(t, fields) for t in group], "minimum_should_match": 1}}


def filter_clauses(filters: Filters, entity_field: str) -> list[Body]:
    """Non-scoring clauses for sources, dates, required entities and excluded articles."""
    clauses: list[Body] = []
    if filters.sources:
        # Outlet names match whatever their case, as in the SQLite store.
        clauses.append({"bool": {"should": [{"term": {"source": {"value": v, "case_insensitive": True}}}
                                            for v in filters.sources], "minimum_should_match": 1}})
    if filters.date_from or filters.date_to:
        bounds = {}
        if filters.date_from:
            bounds["gte"] = filters.date_from.isoformat()
        if filters.date_to:
            bounds["lte"] = filters.date_to.isoformat()
        clauses.append({"range": {"published": bounds}})
    if filters.entities:
        from claimlookup import nlp  # spaCy is imported only when an entity filter is used

        # any spelling of an entity finds all of them (the key as given too: an index not yet re-keyed)
        for key in filters.entities:
            canonical = nlp.canonical_key(key)
            clauses.append({"term": {entity_field: key}} if canonical == key
                           else {"terms": {entity_field: sorted({key, canonical})}})
    if filters.exclude_articles:
        clauses.append({"bool": {"must_not": [{"terms": {"article_id": list(filters.exclude_articles)}}]}})
    return clauses


def build_query(query: ParsedQuery, fields: Sequence[str], filters: Sequence[Body] = ()) -> Body:
    """ParsedQuery -> a bool query (never query_string: user text stays data)."""
    clauses: Body = {}
    if query.groups:
        clauses["must"] = [group_clause(g, fields) for g in query.groups]
    if query.excluded:
        clauses["must_not"] = [term_clause(t, fields) for t in query.excluded]
    if filters:
        clauses["filter"] = list(filters)
    return {"bool": clauses} if clauses else {"match_all": {}}


@dataclass(frozen=True, slots=True)
class _Level:
    index_kind: str
    fields: tuple[str, ...]
    entity_field: str
    source_fields: tuple[str, ...]
    tiebreak: tuple[Body, ...]


_LEVELS = {
    "article": _Level("articles", ("title^2", "body"), "entities.key", tuple(ARTICLE_HIT_FIELDS),
                      ({"article_id": "asc"},)),
    "sentence": _Level("sentences", ("text",), "article_entities", tuple(SENTENCE_HIT_FIELDS),
                       ({"article_id": "asc"}, {"position": "asc"})),
}


def _level(name: str) -> _Level:
    try:
        return _LEVELS[name]
    except KeyError:
        raise ValueError(f"unknown search level {name!r}: use article or sentence") from None


def sort_clause(sort: str, level: str, listing: bool = False) -> list[Body]:
    """relevance: best first; date (and any listing, which has no relevance):
    newest first, undated last. Ties by id for stable paging."""
    tiebreak = list(_level(level).tiebreak)
    if sort not in ("relevance", "date"):
        raise ValueError(f"unknown sort {sort!r}: use relevance or date")
    if sort == "relevance" and not listing:
        return [SCORE_DESC, *tiebreak]
    return [{"published": {"order": "desc", "missing": "_last"}}, SCORE_DESC, *tiebreak]


def highlight_clause(level: str) -> Body:
    """``<mark>`` around matches; ``encoder: html`` escapes the rest of the text."""
    if level == "article":
        fields = {"title": {"number_of_fragments": 0},
                  "body": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}}
    else:
        fields = {"text": {"number_of_fragments": 0}}
    return {"pre_tags": [MARK_OPEN], "post_tags": [MARK_CLOSE], "encoder": "html", "fields": fields}


def _article_count(field: str) -> Body:
    return {"articles": {"cardinality": {"field": field}}}


def facet_aggs(level: str) -> Body:
    """Sources, entities and months, each counting articles (not sentences)."""
    months = {"date_histogram": {"field": "published", "calendar_interval": "month",
                                 "format": "yyyy-MM", "min_doc_count": 1}}
    if level == "article":
        entity_terms = {"terms": {"field": "entities.key", "size": FACET_SIZE},
                        "aggs": {"name": {"terms": {"field": "entities.name", "size": 1}},
                                 "label": {"terms": {"field": "entities.label", "size": 1}}}}
        return {"sources": {"terms": {"field": "source", "size": FACET_SIZE}},
                "entities": {"nested": {"path": "entities"}, "aggs": {"keys": entity_terms}},
                "months": months}
    # Sentence hits: count distinct articles; entities are those of the matching
    # articles (as at article level), names come from build_entities_body(keys=...).
    by_articles = [{"articles": "desc"}, {"_key": "asc"}]
    return {
        "sources": {"terms": {"field": "source", "size": FACET_SIZE, "order": by_articles},
                    "aggs": _article_count("article_id")},
        "entities": {"terms": {"field": "article_entities", "size": FACET_SIZE, "order": by_articles},
                     "aggs": _article_count("article_id")},
        "months": {**months, "aggs": _article_count("article_id")},
    }


def page_window(page: int, size: int) -> tuple[int, int]:
    """(from, size) clamped to the result window: deep pages come back empty
    (with the right total) instead of failing."""
    start = min(max(page - 1, 0) * size, MAX_RESULT_WINDOW)
    return start, max(0, min(size, MAX_RESULT_WINDOW - start))


def build_search_body(request: SearchRequest) -> Body:
    """The search request body for ``Store.search``; ValueError for a bad level,
    sort, page or size (``common.validate_search_request``)."""
    validate_search_request(request)
    level = _level(request.level)
    start, size = page_window(request.page, request.size)
    listing = request.query.is_empty
    body: Body = {
        "query": build_query(request.query, level.fields, filter_clauses(request.filters, level.entity_field)),
        "from": start,
        "size": size,
        "sort": sort_clause(request.sort, request.level, listing),
        "track_total_hits": True,
        "track_scores": True,
        "_source": list(level.source_fields) + (["lead"] if request.level == "article" else []),
    }
    if not listing:
        body["highlight"] = highlight_clause(request.level)
    if request.facets:
        body["aggs"] = facet_aggs(request.level)
    return body


def search_index(names: IndexNames, level: str) -> str:
    return getattr(names, _level(level).index_kind)


# --- claim candidates and the catalogue ----------------------------------------


def build_lexical_body(query: ParsedQuery, filters: Filters, limit: int,
                       restrict_to: Sequence[SentenceRef] | None = None) -> Body:
    """BM25 over sentence text (titles are sentences), best first."""
    clauses = filter_clauses(filters, "article_entities")
    if restrict_to is not None:
        clauses.append({"terms": {"ref": sorted({sentence_ref_key(r.article_id, r.position) for r in restrict_to})}})
    return {
        "query": build_query(query, ["text"], clauses),
        "size": limit,
        "sort": [SCORE_DESC, {"article_id": "asc"}, {"position": "asc"}],
        "track_scores": True,
        "track_total_hits": False,
        "_source": list(CANDIDATE_FIELDS),
    }


def knn_candidates(limit: int) -> int:
    return min(MAX_KNN_CANDIDATES, max(limit * KNN_OVERSAMPLING, MIN_KNN_CANDIDATES, limit))


def build_knn_body(vector: np.ndarray, filters: Filters, limit: int) -> Body:
    """Approximate nearest sentences by cosine, with filters applied inside the kNN search."""
    k = min(limit, MAX_KNN_CANDIDATES)
    knn: Body = {"field": "vector", "query_vector": np.asarray(vector, dtype=np.float32).tolist(),
                 "k": k, "num_candidates": knn_candidates(k)}
    clauses = filter_clauses(filters, "article_entities")
    if clauses:
        knn["filter"] = clauses
    return {"knn": knn, "size": k, "track_total_hits": False, "_source": list(CANDIDATE_FIELDS)}


def build_knn_searches(vectors: np.ndarray, filters: Filters, limit: int) -> list[Body]:
    """msearch body: an empty header (the index is in the URL) and a kNN body per vector."""
    searches: list[Body] = []
    for vector in vectors:
        searches.extend([{}, build_knn_body(vector, filters, limit)])
    return searches


def build_candidate_searches(queries: Sequence[ParsedQuery], vectors: np.ndarray, filters: Filters,
                             lexical_limit: int, vector_limit: int) -> list[Body]:
    """msearch body of a whole lookup's candidates: the kNN search of each
    vector (``build_knn_searches``), then the BM25 search of each query
    (``build_lexical_body``), each after an empty header."""
    searches = build_knn_searches(vectors, filters, vector_limit)
    for query in queries:
        searches.extend([{}, build_lexical_body(query, filters, lexical_limit)])
    return searches


_REGEX_RESERVED = frozenset('.?+*|{}[]()"\\#@&<>~^$')


def key_prefix_pattern(prefix: str) -> str:
    """A Lucene regular expression matching entity keys (lower case) that
    start with ``prefix``, whatever its case; reserved characters escaped."""
    escaped = "".join("\\" + ch if ch in _REGEX_RESERVED else ch for ch in prefix.lower())
    return escaped + ".*"


def build_entities_body(prefix: str = "", label: str | None = None, limit: int = 20,
                        keys: Sequence[str] = (), *, cheap: bool = False) -> Body:
    """Entity keys with their article counts, top name and label; prefix on key
    or name (case-insensitive), or exactly the given ``keys``.

    ``cheap``: for clusters with ``search.allow_expensive_queries: false``,
    which refuse ``prefix`` queries on keyword fields: the prefix becomes a
    regular expression the ``terms`` aggregation applies to the keys (no
    query), so it matches keys only, not names."""
    clauses: list[Body] = []
    if keys:
        clauses.append({"terms": {"entities.key": list(keys)}})
    if prefix and not cheap:
        clauses.append({"bool": {"should": [
            {"prefix": {"entities.key": {"value": prefix, "case_insensitive": True}}},
            {"prefix": {"entities.name": {"value": prefix, "case_insensitive": True}}},
        ], "minimum_should_match": 1}})
    if label:
        clauses.append({"term": {"entities.label": {"value": label, "case_insensitive": True}}})
    matching = {"bool": {"filter": clauses}} if clauses else {"match_all": {}}
    key_terms: Body = {"field": "entities.key", "size": max(limit, 1)}
    if prefix and cheap:
        key_terms["include"] = key_prefix_pattern(prefix)
    per_key = {"terms": key_terms,
               "aggs": {"name": {"terms": {"field": "entities.name", "size": 1}},
                        "label": {"terms": {"field": "entities.label", "size": 1}}}}
    return {"size": 0, "aggs": {"entities": {"nested": {"path": "entities"}, "aggs": {
        "matching": {"filter": matching, "aggs": {"keys": per_key}}}}}}


def build_entity_spellings_body(keys: Sequence[str], limit: int) -> Body:
    """The written names of the given entity keys with their article counts:
    on the articles index each article holds one name per key (the one it
    uses most), so a name's count is the articles that mostly write it so.
    Names are asked for four times ``limit`` (case variants fold later)."""
    keys = sorted(set(keys))
    per_key = {"terms": {"field": "entities.key", "size": max(len(keys), 1)},
               "aggs": {"names": {"terms": {"field": "entities.name", "size": 4 * max(limit, 1)}}}}
    return {"size": 0, "query": {"nested": {"path": "entities", "query": {"terms": {"entities.key": keys}}}},
            "aggs": {"entities": {"nested": {"path": "entities"}, "aggs": {
                "matching": {"filter": {"terms": {"entities.key": keys}}, "aggs": {"keys": per_key}}}}}}


def build_sources_body() -> Body:
    dates = {"field": "published", "format": "yyyy-MM-dd"}
    return {"size": 0, "aggs": {"sources": {
        "terms": {"field": "source", "size": MAX_SOURCES},
        "aggs": {"first": {"min": dates}, "last": {"max": dates}}}}}
