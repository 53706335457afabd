"""Response bodies -> ``claimlookup.model`` dataclasses: search pages with
snippets and facets, candidates, articles and stored sentences, the entity
catalogue and the sources. Pure functions, pinned against responses shaped
like the Elasticsearch 8 documentation in ``tests/test_elastic_unit.py``.

Sentence documents of a generation other than the one their article document
names are never shown (``is_committed``): readers see each article fully old
or fully new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from claimlookup.model import (
    Article,
    Candidate,
    EntityCount,
    EntityMention,
    FacetCount,
    Facets,
    Frame,
    Quantity,
    SearchHit,
    SearchPage,
    Sentence,
    SentenceRef,
    SourceCount,
    StoredSentence,
)
from claimlookup.store.common import lead_snippet, parse_date, spellings_by_key
from claimlookup.store.elastic.errors import check_complete, check_delete_by_query, item_error
from claimlookup.store.elastic.indices import Response
from claimlookup.store.elastic.queries import MARK_OPEN


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


def msearch_responses(resp: Response) -> list[Response]:
    """The per-search responses; the first failed or partial one raises."""
    items = list(resp["responses"])
    for item in items:
        if "error" in item:
            raise item_error(item)
        check_complete(item)
    return items


def parse_msearch_candidates(resp: Response, committed: Mapping[str, str] | None = None) -> list[list[Candidate]]:
    return [parse_candidates(item, committed, cosine=True) for item in msearch_responses(resp)]


def parse_candidate_searches(resp: Response, committed: Mapping[str, str],
                             knn_searches: int) -> tuple[list[list[Candidate]], list[list[Candidate]]]:
    """The answer to ``build_candidate_searches``: (vector candidates per
    kNN search, lexical candidates per BM25 search); the first failed or
    partial search raises."""
    items = msearch_responses(resp)
    return ([parse_candidates(item, committed, cosine=True) for item in items[:knn_searches]],
            [parse_candidates(item, committed) for item in items[knn_searches:]])


def sources_by_article(sources: Iterable[Response]) -> dict[str, list[Response]]:
    """Sentence documents grouped by their ``article_id``, in order."""
    grouped: dict[str, list[Response]] = {}
    for src in sources:
        grouped.setdefault(src["article_id"], []).append(src)
    return grouped


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


@dataclass(frozen=True, slots=True)
class CommittedArticle:
    """What a write needs of an article document: the committed generation and its sentence positions."""

    content_hash: str
    positions: tuple[int, ...]


def parse_committed(resp: Response) -> dict[str, CommittedArticle]:
    """mget of article docs (``article_id``, ``content_hash``, ``positions``) -> {article id: committed}."""
    return {src["article_id"]: CommittedArticle(src["content_hash"], tuple(int(p) for p in src.get("positions") or ()))
            for src in found_sources(resp)}


@dataclass(frozen=True, slots=True)
class GenerationsPage:
    """One page of the sweep's composite aggregation: (article id, article
    hash) pairs in key order, and the ``after_key`` of the next page (None
    when this was the last)."""

    pairs: tuple[tuple[str, str], ...]
    after: Mapping[str, object] | None


def parse_generations_page(resp: Response, size: int) -> GenerationsPage:
    """A size-0 search with the ``generations`` composite aggregation; a
    partial answer raises (a pair missed on a failed shard would simply not
    be swept, but a page cut short must not end the paging early). A page
    with fewer than ``size`` buckets is the last: each shard returned every
    key it had after ``after``."""
    check_complete(resp)
    agg = resp["aggregations"]["generations"]
    pairs = tuple((str(b["key"]["article_id"]), str(b["key"]["article_hash"])) for b in agg["buckets"])
    after = agg.get("after_key") if len(pairs) >= size else None
    return GenerationsPage(pairs, after)


def uncommitted_generations(pairs: Iterable[tuple[str, str]], committed: Mapping[str, str]) -> dict[str, set[str]]:
    """Article id -> the article hashes among ``pairs`` that its document does
    not name (every hash, for an article without a document)."""
    found: dict[str, set[str]] = {}
    for article_id, content_hash in pairs:
        if committed.get(article_id) != content_hash:
            found.setdefault(article_id, set()).add(content_hash)
    return found


def parse_deleted(resp: Response) -> int:
    """Documents a delete-by-query removed; raises if it left some behind
    (failures, timed out). Version conflicts (documents written again since
    its snapshot, left in place under ``conflicts=proceed``) are not failures."""
    check_delete_by_query(resp)
    return int(resp.get("deleted") or 0)


def parse_mention(src: Response) -> EntityMention:
    return EntityMention(text=src["name"], label=src["label"], key=src["key"],
                         start=int(src["start"]), end=int(src["end"]))


def parse_quantity(src: Response) -> Quantity:
    return Quantity(value=float(src["value"]), text=src["text"], counts=src.get("counts", ""),
                    event=src.get("event", ""), qualifier=src.get("qualifier", "exact"),
                    start=int(src.get("start", 0)), end=int(src.get("end", 0)), scope=src.get("scope", "event"))


def parse_sentence(src: Response) -> Sentence:
    vector = src.get("vector")
    return Sentence(
        position=int(src["position"]), text=src["text"], start=int(src["start"]), end=int(src["end"]),
        entities=[parse_mention(e) for e in src.get("entities", [])],
        quantities=[parse_quantity(q) for q in src.get("quantities", [])],
        stance=Frame(src["stance"]), speaker=src.get("speaker"),
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


def parse_entity_spellings(resp: Response, limit: int) -> dict[str, list[str]]:
    buckets = resp["aggregations"]["entities"]["matching"]["keys"]["buckets"]
    return spellings_by_key([(b["key"], n["key"], int(n["doc_count"])) for b in buckets
                             for n in b["names"]["buckets"]], limit)


def parse_sources_response(resp: Response) -> list[SourceCount]:
    return [SourceCount(source=b["key"], articles=int(b["doc_count"]),
                        first_published=parse_date(b["first"].get("value_as_string")),
                        last_published=parse_date(b["last"].get("value_as_string")))
            for b in resp["aggregations"]["sources"]["buckets"]]
