"""Elasticsearch adapter of the Store protocol (production, scale-out).

Layout: two indices per store, each a versioned concrete index behind an
alias (``{prefix}-articles`` -> ``{prefix}-articles-v1-<stamp>``), with the
explicit mappings and analysis settings of ``es-mapping.json``:

* articles: one document per article (title, body, facts, ``content_hash``,
  the sentence positions, and one nested entry per distinct entity key);
* sentences: one document per sentence, title = position 0, with its
  entities, quantities, stance, vector and the article facts that filters
  and hits need (denormalised).

Consistency (details in ``docs/store-elastic.md``): Elasticsearch has no
multi-document transactions, so the article document is the commit marker.
Sentence documents carry their article's content hash (the *generation*)
in their ids; a write indexes the new generation, then the article document,
then deletes the other generations. Every read of sentences is filtered to
the generation the article document names, so readers see each article
fully old or fully new; a crash leaves only invisible leftovers that the
next write of that article removes.

The module is two layers: pure functions that build request bodies from
domain objects and parse response bodies into domain objects (all the query
DSL lives here and nowhere else), and the thin ``ElasticStore`` class that
sends them and translates driver errors into ``StoreError``s.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError, helpers

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
    Term,
    WriteOutcome,
    WriteStatus,
)
from claimlookup.store.base import ArticleNotFound, StoreCorrupt, StoreError, StoreUnavailable

Body = dict[str, Any]
Response = Mapping[str, Any]

MAPPING_PATH = Path(__file__).with_name("es-mapping.json")
KINDS = ("articles", "sentences")

READ_TIMEOUT = 5.0  # seconds; an outage fails fast instead of hanging a request
WRITE_TIMEOUT = 60.0  # bulk chunks, delete-by-query and refresh do more work
MAX_RETRIES = 1  # refused connections and 429/502/503/504 answers; never timeouts
READ_ATTEMPTS = 3  # get_article re-reads when a concurrent update moved the generation

MAX_RESULT_WINDOW = 10_000  # index.max_result_window in es-mapping.json
MAX_KNN_CANDIDATES = 10_000  # Elasticsearch's cap on num_candidates
MIN_KNN_CANDIDATES = 100
KNN_OVERSAMPLING = 4
FACET_SIZE = 20
MAX_SOURCES = 10_000
SNIPPET_CHARS = 200  # highlighted body fragment
LEAD_CHARS = 240  # listing snippet: the start of the body (or sentence), cut at a word
WRITE_BATCH = 100  # articles per batch: one mget, three bulk phases, one refresh
BULK_CHUNK = 500  # documents per bulk request
MAX_ID_BYTES = 400  # Elasticsearch caps _id at 512 bytes; longer article ids are hashed
GENERATION_CHARS = 16

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
ARTICLE_HIT_FIELDS = ["article_id", "title", "source", "published", "url"]
SENTENCE_HIT_FIELDS = ["article_id", "article_hash", "position", "text", "title", "source", "published", "url"]
CANDIDATE_FIELDS = ["article_id", "position", "article_hash"]


# --- names and mappings ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexNames:
    """The two indices (or aliases) a store reads and writes."""

    articles: str
    sentences: str

    def all(self) -> list[str]:
        return [self.articles, self.sentences]


@functools.lru_cache(maxsize=1)
def load_mapping() -> Mapping[str, Any]:
    """The checked-in settings and mappings (``es-mapping.json``)."""
    return json.loads(MAPPING_PATH.read_text(encoding="utf-8"))


def alias_names(prefix: str) -> IndexNames:
    """The aliases readers and writers use: ``{prefix}-articles`` and ``{prefix}-sentences``."""
    return IndexNames(f"{prefix}-articles", f"{prefix}-sentences")


def versioned_names(prefix: str, version: int, stamp: str) -> IndexNames:
    """Concrete index names: ``{prefix}-{kind}-v{version}-{stamp}``."""
    return IndexNames(f"{prefix}-articles-v{version}-{stamp}", f"{prefix}-sentences-v{version}-{stamp}")


def timestamp(now: datetime | None = None) -> str:
    """A sortable, index-name-safe UTC stamp (microseconds, so rebuilds never collide)."""
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S%f")


def index_body(mapping: Mapping[str, Any], kind: str, alias: str | None = None) -> Body:
    """The create-index body for ``kind`` (articles | sentences), optionally with its alias."""
    body: Body = {"settings": mapping["settings"], "mappings": mapping["mappings"][kind]}
    if alias:
        body["aliases"] = {alias: {}}
    return body


def alias_swap_actions(new: IndexNames, aliases: IndexNames, old_indices: Sequence[str]) -> list[Body]:
    """One atomic ``update_aliases`` call: point both aliases at the new
    indices and delete the old ones (which drops their aliases with them)."""
    actions: list[Body] = [
        {"add": {"index": new.articles, "alias": aliases.articles}},
        {"add": {"index": new.sentences, "alias": aliases.sentences}},
    ]
    actions.extend({"remove_index": {"index": name}} for name in sorted(old_indices))
    return actions


def parse_alias_indices(resp: Response) -> list[str]:
    """Concrete indices named in a get-alias response."""
    return sorted(resp)


# --- ids and documents -------------------------------------------------------


def article_doc_id(article_id: str) -> str:
    """The article document's ``_id``: the article id, hashed if too long for ES."""
    if len(article_id.encode("utf-8")) <= MAX_ID_BYTES:
        return article_id
    return "sha256:" + hashlib.sha256(article_id.encode("utf-8")).hexdigest()


def generation(content_hash: str) -> str:
    return content_hash[:GENERATION_CHARS]


def sentence_id(article_id: str, content_hash: str, position: int) -> str:
    """``{article}:{generation}:{position}``: each content version gets its own ids."""
    return f"{article_doc_id(article_id)}:{generation(content_hash)}:{position}"


def sentence_ref_key(article_id: str, position: int) -> str:
    """The generation-free ``ref`` field, for restricting queries to given sentences."""
    return f"{article_id}:{position}"


def entity_summary(article: Article) -> list[Body]:
    """One entry per distinct entity key: its most frequent name and label."""
    names: dict[str, Counter[str]] = {}
    labels: dict[str, Counter[str]] = {}
    for mention in article.entities:
        names.setdefault(mention.key, Counter())[mention.text] += 1
        labels.setdefault(mention.key, Counter())[mention.label] += 1
    return [{"key": key, "label": labels[key].most_common(1)[0][0], "name": counts.most_common(1)[0][0]}
            for key, counts in names.items()]


def article_document(article: Article) -> Body:
    return {
        "article_id": article.id,
        "title": article.title,
        "body": article.body,
        "lead": " ".join(article.body.split())[:2 * LEAD_CHARS],
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "content_hash": article.content_hash,
        "positions": [s.position for s in article.sentences],
        "entities": entity_summary(article),
    }


def sentence_document(article: Article, sentence: Sentence, entity_keys: list[str], content_hash: str) -> Body:
    doc: Body = {
        "ref": sentence_ref_key(article.id, sentence.position),
        "article_id": article.id,
        "article_hash": content_hash,
        "position": sentence.position,
        "text": sentence.text,
        "start": sentence.start,
        "end": sentence.end,
        "stance": sentence.stance.value,
        "speaker": sentence.speaker,
        "entities": [{"key": e.key, "label": e.label, "name": e.text, "start": e.start, "end": e.end}
                     for e in sentence.entities],
        "quantities": [{"value": q.value, "text": q.text, "counts": q.counts, "event": q.event,
                        "qualifier": q.qualifier, "start": q.start, "end": q.end} for q in sentence.quantities],
        "article_entities": entity_keys,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
    }
    if sentence.vector is not None:
        doc["vector"] = np.asarray(sentence.vector, dtype=np.float32).tolist()
    return doc


def sentence_actions(article: Article, index: str) -> Iterator[Body]:
    """Bulk actions indexing the article's sentences under its new generation."""
    content_hash = article.content_hash
    keys = sorted({e.key for e in article.entities})
    for sentence in article.sentences:
        yield {"_op_type": "index", "_index": index,
               "_id": sentence_id(article.id, content_hash, sentence.position),
               "_source": sentence_document(article, sentence, keys, content_hash)}


def article_action(article: Article, index: str) -> Body:
    """The bulk action writing the article document: the commit marker."""
    return {"_op_type": "index", "_index": index, "_id": article_doc_id(article.id),
            "_source": article_document(article)}


def build_cleanup_body(generations: Mapping[str, str]) -> Body:
    """Delete-by-query body removing every sentence of these articles whose
    generation is not the given (committed) one; ``{}`` means none to keep."""
    clauses = [{"bool": {"filter": [{"term": {"article_id": article_id}}],
                         "must_not": [{"term": {"article_hash": content_hash}}]}}
               for article_id, content_hash in generations.items()]
    return {"query": {"bool": {"should": clauses, "minimum_should_match": 1}}}


def build_delete_sentences_body(article_id: str) -> Body:
    return {"query": {"term": {"article_id": article_id}}}


# --- writing: plans and results ---------------------------------------------


def batches(articles: Iterable[Article], size: int = WRITE_BATCH) -> Iterator[list[Article]]:
    """Input order, ``size`` at a time; an id repeated within a batch starts a new
    batch, so the later version is written after the earlier one is committed.
    An article without sentences raises ValueError once the articles before it
    have been handed out."""
    batch: list[Article] = []
    ids: set[str] = set()
    for article in articles:
        if not article.sentences:
            if batch:
                yield batch
            raise ValueError(f"article {article.id!r} has no sentences: analyse it before writing")
        if len(batch) >= size or article.id in ids:
            yield batch
            batch, ids = [], set()
        batch.append(article)
        ids.add(article.id)
    if batch:
        yield batch


def plan_writes(batch: Sequence[Article], stored: Mapping[str, str]) -> list[WriteStatus]:
    """new / updated / unchanged for each article, given stored content hashes."""
    statuses = []
    for article in batch:
        if article.id not in stored:
            statuses.append(WriteStatus.NEW)
        elif stored[article.id] == article.content_hash:
            statuses.append(WriteStatus.UNCHANGED)
        else:
            statuses.append(WriteStatus.UPDATED)
    return statuses


def write_outcome(article: Article, status: WriteStatus) -> WriteOutcome:
    if status is WriteStatus.UNCHANGED:
        return WriteOutcome(article.id, status)
    return WriteOutcome(article.id, status, sentences=len(article.sentences), entities=len(article.entities))


def bulk_error(failures: Sequence[Response]) -> StoreError:
    """The product error for failed bulk items (``streaming_bulk`` results)."""
    items = [next(iter(f.values())) for f in failures]
    first = items[0]
    reason = first.get("error", {})
    if isinstance(reason, Mapping):
        reason = f"{reason.get('type')}: {reason.get('reason')}"
    message = f"{len(items)} document(s) rejected; first {first.get('_id')!r}: {reason}"
    if any(item.get("status", 500) == 429 or item.get("status", 500) >= 500 for item in items):
        return StoreUnavailable(message)
    return StoreError(message)


def check_delete_by_query(resp: Response) -> None:
    """Raise if a delete-by-query left documents behind."""
    failures = resp.get("failures") or []
    if failures or resp.get("timed_out"):
        raise StoreUnavailable(f"delete-by-query incomplete: {len(failures)} failure(s), "
                               f"timed_out={resp.get('timed_out')}")


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
        clauses.append({"terms": {"source": list(filters.sources)}})
    if filters.date_from or filters.date_to:
        bounds = {}
        if filters.date_from:
            bounds["gte"] = filters.date_from.isoformat()
        if filters.date_to:
            bounds["lte"] = filters.date_to.isoformat()
        clauses.append({"range": {"published": bounds}})
    clauses.extend({"term": {entity_field: key}} for key in filters.entities)
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
        return [{"_score": "desc"}, *tiebreak]
    return [{"published": {"order": "desc", "missing": "_last"}}, {"_score": "desc"}, *tiebreak]


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
    sort, page or size (callers validate first: these are programming errors)."""
    level = _level(request.level)
    if request.page < 1 or request.size < 1:
        raise ValueError("page and size must be at least 1")
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


# --- claim candidates --------------------------------------------------------


def build_lexical_body(query: ParsedQuery, filters: Filters, limit: int,
                       restrict_to: Sequence[SentenceRef] | None = None) -> Body:
    """BM25 over sentence text (titles are sentences), best first."""
    clauses = filter_clauses(filters, "article_entities")
    if restrict_to is not None:
        clauses.append({"terms": {"ref": sorted({sentence_ref_key(r.article_id, r.position) for r in restrict_to})}})
    return {
        "query": build_query(query, ["text"], clauses),
        "size": limit,
        "sort": [{"_score": "desc"}, {"article_id": "asc"}, {"position": "asc"}],
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


def build_entities_body(prefix: str = "", label: str | None = None, limit: int = 20,
                        keys: Sequence[str] = ()) -> Body:
    """Entity keys with their article counts, top name and label; prefix on key
    or name (case-insensitive), or exactly the given ``keys``."""
    clauses: list[Body] = []
    if keys:
        clauses.append({"terms": {"entities.key": list(keys)}})
    if prefix:
        clauses.append({"bool": {"should": [
            {"prefix": {"entities.key": {"value": prefix, "case_insensitive": True}}},
            {"prefix": {"entities.name": {"value": prefix, "case_insensitive": True}}},
        ], "minimum_should_match": 1}})
    if label:
        clauses.append({"term": {"entities.label": {"value": label, "case_insensitive": True}}})
    matching = {"bool": {"filter": clauses}} if clauses else {"match_all": {}}
    keys = {"terms": {"field": "entities.key", "size": max(limit, 1)},
            "aggs": {"name": {"terms": {"field": "entities.name", "size": 1}},
                     "label": {"terms": {"field": "entities.label", "size": 1}}}}
    return {"size": 0, "aggs": {"entities": {"nested": {"path": "entities"}, "aggs": {
        "matching": {"filter": matching, "aggs": {"keys": keys}}}}}}


def build_sources_body() -> Body:
    dates = {"field": "published", "format": "yyyy-MM-dd"}
    return {"size": 0, "aggs": {"sources": {
        "terms": {"field": "source", "size": MAX_SOURCES},
        "aggs": {"first": {"min": dates}, "last": {"max": dates}}}}}


# --- response parsing --------------------------------------------------------


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _top_key(agg: Response | None) -> str | None:
    buckets = (agg or {}).get("buckets") or []
    return buckets[0]["key"] if buckets else None


def _bucket_count(bucket: Response) -> int:
    """Article count of a facet bucket: a cardinality sub-aggregation if present."""
    if "articles" in bucket:
        return int(bucket["articles"]["value"])
    return int(bucket["doc_count"])


def _entity_buckets(aggs: Response) -> list[Response]:
    entities = aggs["entities"]
    return (entities["keys"] if "keys" in entities else entities)["buckets"]


def facet_entity_keys(resp: Response) -> list[str]:
    """Entity keys of a response's entity facet (to look their names up)."""
    aggs = resp.get("aggregations")
    return [b["key"] for b in _entity_buckets(aggs)] if aggs else []


def parse_entity_facet(bucket: Response, known: Mapping[str, EntityCount]) -> FacetCount:
    """An entity bucket; name and label from its sub-aggregations or from ``known``."""
    entity = known.get(bucket["key"])
    name = _top_key(bucket.get("name")) or (entity.name if entity else None)
    label = _top_key(bucket.get("label")) or (entity.label if entity else None)
    return FacetCount(value=bucket["key"], count=_bucket_count(bucket), label=label, name=name)


def parse_facets(aggs: Response | None, known: Mapping[str, EntityCount] | None = None) -> Facets:
    """Facets of either level (article counts come from doc_count or a cardinality)."""
    if not aggs:
        return Facets()
    return Facets(
        sources=[FacetCount(b["key"], _bucket_count(b)) for b in aggs["sources"]["buckets"]],
        entities=[parse_entity_facet(b, known or {}) for b in _entity_buckets(aggs)],
        months=[FacetCount(b["key_as_string"], _bucket_count(b)) for b in aggs["months"]["buckets"]],
    )


def _first_marked(fragments: Iterable[str]) -> str | None:
    return next((f for f in fragments if MARK_OPEN in f), None)


def lead_snippet(text: str, limit: int = LEAD_CHARS) -> str:
    """The start of ``text`` cut at a word boundary, HTML-escaped (listings)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return html.escape(text)
    cut = text.rfind(" ", 0, limit)
    return html.escape(text[:cut if cut > 0 else limit]) + "\u2026"


def article_snippet(highlight: Response, src: Response) -> str:
    """The body fragment with a match, else the highlighted title, else the
    lead of the body. Highlights are escaped by Elasticsearch's html encoder."""
    return (_first_marked(highlight.get("body", [])) or _first_marked(highlight.get("title", []))
            or lead_snippet(src.get("lead") or ""))


def parse_search_hit(hit: Response, level: str) -> SearchHit:
    src, highlight = hit["_source"], hit.get("highlight", {})
    if level == "article":
        snippet, position = article_snippet(highlight, src), None
    else:
        snippet = _first_marked(highlight.get("text", [])) or lead_snippet(src["text"])
        position = int(src["position"])
    return SearchHit(article_id=src["article_id"], title=src["title"], source=src.get("source"),
                     published=parse_date(src.get("published")), url=src.get("url"),
                     score=float(hit.get("_score") or 0.0), snippet=snippet, sentence_position=position)


def is_committed(src: Response, committed: Mapping[str, str] | None) -> bool:
    """Whether a sentence belongs to the generation its article document names
    (always true when no committed map is given, e.g. for article hits)."""
    return committed is None or committed.get(src["article_id"]) == src.get("article_hash")


def parse_search_response(resp: Response, level: str, committed: Mapping[str, str] | None = None,
                          known: Mapping[str, EntityCount] | None = None) -> SearchPage:
    """A search response -> SearchPage. Sentence hits of generations other than
    the ``committed`` one are dropped; ``known`` names facet entities."""
    hits = [parse_search_hit(h, level) for h in resp["hits"]["hits"] if is_committed(h["_source"], committed)]
    return SearchPage(total=int(resp["hits"]["total"]["value"]), hits=hits,
                      facets=parse_facets(resp.get("aggregations"), known))


def hit_article_ids(resp: Response) -> list[str]:
    """Distinct article ids among the hits, in order of first appearance."""
    return list(dict.fromkeys(h["_source"]["article_id"] for h in resp["hits"]["hits"]))


def knn_cosine(score: float) -> float:
    """Elasticsearch scores cosine kNN as (1 + cosine) / 2; undo it."""
    return 2.0 * float(score) - 1.0


def parse_candidates(resp: Response, committed: Mapping[str, str] | None = None, *,
                     cosine: bool = False) -> list[Candidate]:
    out = []
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        if is_committed(src, committed):
            score = knn_cosine(hit["_score"]) if cosine else float(hit["_score"])
            out.append(Candidate(SentenceRef(src["article_id"], int(src["position"])), score))
    return out


def item_error(item: Response) -> StoreError:
    """The product error for one failed item of an msearch or mget response."""
    error = item.get("error", {})
    reason = f"{error.get('type')}: {error.get('reason')}" if isinstance(error, Mapping) else str(error)
    status = int(item.get("status", 500))
    if status == 429 or status >= 500:
        return StoreUnavailable(f"search failed ({status}): {reason}")
    return StoreError(f"search rejected ({status}): {reason}")


def msearch_responses(resp: Response) -> list[Response]:
    """The per-search responses; the first failed one raises."""
    items = list(resp["responses"])
    for item in items:
        if "error" in item:
            raise item_error(item)
    return items


def parse_msearch_candidates(resp: Response, committed: Mapping[str, str] | None = None) -> list[list[Candidate]]:
    return [parse_candidates(item, committed, cosine=True) for item in msearch_responses(resp)]


def found_sources(resp: Response) -> list[Response]:
    """``_source`` of each found mget doc, in request order; a per-doc error raises."""
    out = []
    for doc in resp["docs"]:
        if "error" in doc:
            raise item_error({"error": doc["error"], "status": 503})
        if doc.get("found"):
            out.append(doc["_source"])
    return out


def parse_content_hashes(resp: Response) -> dict[str, str]:
    return {src["article_id"]: src["content_hash"] for src in found_sources(resp)}


def parse_mention(src: Response) -> EntityMention:
    return EntityMention(text=src["name"], label=src["label"], key=src["key"],
                         start=int(src["start"]), end=int(src["end"]))


def parse_quantity(src: Response) -> Quantity:
    return Quantity(value=float(src["value"]), text=src["text"], counts=src.get("counts", ""),
                    event=src.get("event", ""), qualifier=src.get("qualifier", "exact"),
                    start=int(src.get("start", 0)), end=int(src.get("end", 0)))


def parse_sentence(src: Response) -> Sentence:
    vector = src.get("vector")
    return Sentence(
        position=int(src["position"]), text=src["text"], start=int(src["start"]), end=int(src["end"]),
        entities=[parse_mention(e) for e in src.get("entities", [])],
        quantities=[parse_quantity(q) for q in src.get("quantities", [])],
        stance=Stance(src["stance"]), speaker=src.get("speaker"),
        vector=np.asarray(vector, dtype=np.float32) if vector is not None else None,
    )


def parse_article(src: Response, sentences: Sequence[Response]) -> Article:
    """An article document plus its sentence documents (vectors omitted)."""
    parsed = sorted((parse_sentence(s) for s in sentences), key=lambda s: s.position)
    for sentence in parsed:
        sentence.vector = None
    return Article(id=src["article_id"], title=src["title"], body=src["body"], source=src.get("source"),
                   url=src.get("url"), published=parse_date(src.get("published")),
                   language=src.get("language", "en"), sentences=parsed)


def parse_stored_sentence(src: Response, article_entities: Sequence[str] = ()) -> StoredSentence:
    return StoredSentence(ref=SentenceRef(src["article_id"], int(src["position"])), sentence=parse_sentence(src),
                          title=src["title"], source=src.get("source"), published=parse_date(src.get("published")),
                          url=src.get("url"), article_hash=src["article_hash"],
                          article_entities=tuple(article_entities))


def parse_article_facts(resp: Response) -> dict[str, tuple[str, tuple[str, ...]]]:
    """mget of article docs -> {article id: (content hash, sorted distinct entity keys)}."""
    return {src["article_id"]: (src["content_hash"],
                                tuple(sorted({e["key"] for e in src.get("entities") or ()})))
            for src in found_sources(resp)}


def parse_entities_response(resp: Response) -> list[EntityCount]:
    buckets = resp["aggregations"]["entities"]["matching"]["keys"]["buckets"]
    return [EntityCount(key=b["key"], name=_top_key(b["name"]) or b["key"], label=_top_key(b["label"]) or "",
                        articles=int(b["doc_count"])) for b in buckets]


def parse_sources_response(resp: Response) -> list[SourceCount]:
    return [SourceCount(source=b["key"], articles=int(b["doc_count"]),
                        first_published=parse_date(b["first"].get("value_as_string")),
                        last_published=parse_date(b["last"].get("value_as_string")))
            for b in resp["aggregations"]["sources"]["buckets"]]


# --- error translation -------------------------------------------------------


def _error_type(error: ApiError) -> str | None:
    body = error.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return body["error"].get("type")
    return None


def translate_api_error(error: ApiError, article_id: str | None = None) -> StoreError:
    """The product exception for an Elasticsearch error response."""
    status, kind = error.meta.status, _error_type(error)
    if status == 404 and kind == "index_not_found_exception":
        return StoreUnavailable(f"Elasticsearch index missing (run setup): {error}")
    if status == 404 and article_id is not None:
        return ArticleNotFound(article_id)
    if status == 429 or status >= 500:
        return StoreUnavailable(f"Elasticsearch failed: {error}")
    return StoreError(f"Elasticsearch rejected the request: {error}")


@contextmanager
def translated_errors(article_id: str | None = None) -> Iterator[None]:
    """Driver errors -> StoreUnavailable / ArticleNotFound / StoreError, chained."""
    try:
        yield
    except ApiError as e:
        raise translate_api_error(e, article_id) from e
    except TransportError as e:  # ConnectionError, ConnectionTimeout, TLS, serialization
        raise StoreUnavailable(f"Elasticsearch unreachable: {e}") from e


# --- the adapter ---------------------------------------------------------------


class ElasticStore:
    """The Store protocol on Elasticsearch 8 (and 9 through REST compatibility).

    ``url`` is the cluster (``http://localhost:9200``); ``index_prefix`` names
    the aliases. Constructing it never touches the network: the client is
    created on first use and reused. ``client`` and ``indices`` are for tests
    and for the staging store of ``rebuild()``.
    """

    def __init__(self, url: str, index_prefix: str = "claimlookup", *,
                 client: Elasticsearch | None = None, indices: IndexNames | None = None) -> None:
        if not index_prefix or index_prefix != index_prefix.lower() or not index_prefix[0].isalnum() \
                or any(ch in index_prefix for ch in ' "*\\<|,>/?#:'):
            raise ValueError(f"invalid index prefix {index_prefix!r}: lower case, no spaces or \\/*?\"<>|,#:")
        self._url = url
        self._prefix = index_prefix
        self._names = indices or alias_names(index_prefix)
        self._client = client
        self._owns_client = client is None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ElasticStore({self._url!r}, {self._prefix!r})"

    @property
    def indices(self) -> IndexNames:
        return self._names

    @property
    def _es(self) -> Elasticsearch:
        """The client, created on first use; reads time out after READ_TIMEOUT."""
        with self._lock:
            if self._client is None:
                self._client = Elasticsearch(self._url, request_timeout=READ_TIMEOUT, max_retries=MAX_RETRIES,
                                             retry_on_timeout=False)
            return self._client

    def _writer(self) -> Elasticsearch:
        """The same client (same connection pool) with the longer write timeout."""
        return self._es.options(request_timeout=WRITE_TIMEOUT)

    # --- lifecycle -----------------------------------------------------------

    def setup(self) -> None:
        mapping = load_mapping()
        with translated_errors():
            for kind in KINDS:
                name = getattr(self._names, kind)
                if not self._es.indices.exists(index=name):
                    concrete = getattr(versioned_names(self._prefix, mapping["version"], "initial"), kind)
                    self._create_index(concrete, index_body(mapping, kind, alias=name))

    def _create_index(self, name: str, body: Body) -> None:
        try:
            self._writer().indices.create(index=name, **body)
        except BadRequestError as e:
            if _error_type(e) != "resource_already_exists_exception":  # a concurrent setup won
                raise

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()

    def ping(self) -> None:
        with translated_errors():
            health = self._es.cluster.health().body
        if health.get("status") == "red":
            raise StoreUnavailable("Elasticsearch cluster health is red")

    # --- writing -------------------------------------------------------------

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        with translated_errors():
            resp = self._es.mget(index=self._names.articles, ids=[article_doc_id(i) for i in dict.fromkeys(ids)],
                                 source_includes=["article_id", "content_hash"])
        return parse_content_hashes(resp.body)

    def write_articles(self, articles: Iterable[Article]) -> Iterator[WriteOutcome]:
        for batch in batches(articles, WRITE_BATCH):
            yield from self._write_batch(batch)

    def _write_batch(self, batch: list[Article]) -> list[WriteOutcome]:
        statuses = plan_writes(batch, self.content_hashes([a.id for a in batch]))
        changed = [a for a, s in zip(batch, statuses) if s is not WriteStatus.UNCHANGED]
        if changed:
            with translated_errors():
                self._bulk(action for a in changed for action in sentence_actions(a, self._names.sentences))
                self._bulk(article_action(a, self._names.articles) for a in changed)
                self._delete_sentences(build_cleanup_body({a.id: a.content_hash for a in changed}))
                self._writer().indices.refresh(index=self._names.all())
        return [write_outcome(a, s) for a, s in zip(batch, statuses)]

    def _bulk(self, actions: Iterable[Body]) -> None:
        """Send actions in chunks; raise after the last chunk if any item failed."""
        failures = [item for ok, item in helpers.streaming_bulk(
            self._writer(), actions, chunk_size=BULK_CHUNK, raise_on_error=False, max_retries=2,
            initial_backoff=1, max_backoff=8) if not ok]
        if failures:
            raise bulk_error(failures)

    def _delete_sentences(self, body: Body) -> None:
        resp = self._writer().delete_by_query(index=self._names.sentences, conflicts="proceed", **body)
        check_delete_by_query(resp.body)

    def delete_article(self, article_id: str) -> None:
        with translated_errors(article_id):
            self._writer().delete(index=self._names.articles, id=article_doc_id(article_id))
        with translated_errors():
            self._delete_sentences(build_delete_sentences_body(article_id))
            self._writer().indices.refresh(index=self._names.all())

    @contextmanager
    def rebuild(self) -> Iterator[ElasticStore]:
        mapping = load_mapping()
        new = versioned_names(self._prefix, mapping["version"], timestamp())
        try:
            with translated_errors():
                for kind in KINDS:
                    self._create_index(getattr(new, kind), index_body(mapping, kind))
            yield ElasticStore(self._url, self._prefix, client=self._es, indices=new)
            with translated_errors():
                self._swap_aliases(new)
        except BaseException:
            self._discard(new)
            raise

    def _swap_aliases(self, new: IndexNames) -> None:
        self._writer().indices.refresh(index=new.all())
        old = [name for alias in self._names.all() for name in self._alias_indices(alias)]
        self._writer().indices.update_aliases(actions=alias_swap_actions(new, self._names, old))

    def _alias_indices(self, alias: str) -> list[str]:
        try:
            return parse_alias_indices(self._es.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _discard(self, new: IndexNames) -> None:
        """Best effort: a failed delete must not hide the error that caused it."""
        try:
            self._writer().indices.delete(index=new.all(), ignore_unavailable=True)
        except (ApiError, TransportError):
            pass

    # --- reading -------------------------------------------------------------

    def get_article(self, article_id: str) -> Article:
        """Read the article document, then exactly its generation's sentences.
        A concurrent update can delete that generation between the two reads:
        then the article document has changed, and reading again settles it."""
        for _ in range(READ_ATTEMPTS):
            with translated_errors(article_id):
                src = self._es.get(index=self._names.articles, id=article_doc_id(article_id)).body["_source"]
            ids = [sentence_id(article_id, src["content_hash"], p) for p in src["positions"]]
            sentences = self._mget_sentences(ids, with_vectors=False)
            if len(sentences) == len(ids):
                return parse_article(src, sentences)
        raise StoreCorrupt(f"article {article_id!r}: {len(ids) - len(sentences)} committed sentence(s) missing")

    def _mget_sentences(self, ids: list[str], *, with_vectors: bool) -> list[Response]:
        if not ids:
            return []
        excludes = [] if with_vectors else ["vector"]
        with translated_errors():
            resp = self._es.mget(index=self._names.sentences, ids=ids, source_excludes=excludes or None)
        return found_sources(resp.body)

    def search(self, request: SearchRequest) -> SearchPage:
        with translated_errors():
            resp = self._es.search(index=search_index(self._names, request.level),
                                   body=build_search_body(request)).body
        if request.level == "article":
            return parse_search_response(resp, "article")
        known = self._entity_names(facet_entity_keys(resp))
        return parse_search_response(resp, "sentence", self._committed(hit_article_ids(resp)), known)

    def _entity_names(self, keys: Sequence[str]) -> dict[str, EntityCount]:
        """Display name and label of each entity key (from the articles index)."""
        if not keys:
            return {}
        with translated_errors():
            resp = self._es.search(index=self._names.articles, body=build_entities_body(limit=len(keys), keys=keys))
        return {e.key: e for e in parse_entities_response(resp.body)}

    def _committed(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Article id -> committed content hash (realtime get, so never stale)."""
        return self.content_hashes(article_ids)

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        if limit <= 0:
            return []
        with translated_errors():
            resp = self._es.search(index=self._names.articles, body=build_entities_body(prefix, label, limit))
        return parse_entities_response(resp.body)

    def sources(self) -> list[SourceCount]:
        with translated_errors():
            resp = self._es.search(index=self._names.articles, body=build_sources_body())
        return parse_sources_response(resp.body)

    def count_articles(self) -> int:
        with translated_errors():
            return int(self._es.count(index=self._names.articles).body["count"])

    # --- claim lookup candidates -------------------------------------------

    def lexical_candidates(self, query: ParsedQuery, filters: Filters, limit: int,
                           restrict_to: Sequence[SentenceRef] | None = None) -> list[Candidate]:
        if query.is_empty or limit <= 0 or (restrict_to is not None and not restrict_to):
            return []
        with translated_errors():
            resp = self._es.search(index=self._names.sentences,
                                   body=build_lexical_body(query, filters, limit, restrict_to)).body
        return parse_candidates(resp, self._committed(hit_article_ids(resp)))

    def vector_candidates(self, vectors: np.ndarray, filters: Filters, limit: int) -> list[list[Candidate]]:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError("vectors must be a 2-d array (one row per query)")
        if len(vectors) == 0:
            return []
        if limit <= 0:
            return [[] for _ in vectors]
        with translated_errors():
            resp = self._es.msearch(index=self._names.sentences,
                                    searches=build_knn_searches(vectors, filters, limit)).body
        ids = list(dict.fromkeys(a for item in msearch_responses(resp) for a in hit_article_ids(item)))
        return parse_msearch_candidates(resp, self._committed(ids))

    def get_sentences(self, refs: Sequence[SentenceRef]) -> list[StoredSentence]:
        if not refs:
            return []
        facts = self._article_facts(list(dict.fromkeys(r.article_id for r in refs)))
        ids = [sentence_id(r.article_id, facts[r.article_id][0], r.position)
               for r in refs if r.article_id in facts]
        return [parse_stored_sentence(src, facts[src["article_id"]][1])
                for src in self._mget_sentences(ids, with_vectors=True)]

    def _article_facts(self, article_ids: Sequence[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Article id -> (committed content hash, keys of its entities), one mget."""
        with translated_errors():
            resp = self._es.mget(index=self._names.articles, ids=[article_doc_id(i) for i in article_ids],
                                 source_includes=["article_id", "content_hash", "entities.key"])
        return parse_article_facts(resp.body)
