"""Unit tests of the Elasticsearch adapter without a server.

Three layers, from pure to integrated:

1. body builders and response parsers, against exact dicts shaped like the
   Elasticsearch 8 REST API documents them;
2. error translation, with a client whose methods raise the exceptions the
   elasticsearch-py 8 client raises (constructed the way the client does);
3. whole store operations through the *real* ``Elasticsearch`` client and
   ``helpers.streaming_bulk``, with a fake node at the HTTP boundary that
   records requests and answers scripted responses.

The live contract suite (tests/contract/test_elastic_contract.py) runs the
same store against a real cluster when CLAIMLOOKUP_ES_URL is set.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig
from elastic_transport._node import NodeApiResponse
from elasticsearch import (
    ApiError,
    BadRequestError,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
)

from claimlookup.embed import DIM
from claimlookup.model import (
    Article,
    Candidate,
    EntityCount,
    EntityMention,
    FacetCount,
    Facets,
    Filters,
    Frame,
    ParsedQuery,
    Quantity,
    SearchHit,
    SearchPage,
    SearchRequest,
    Sentence,
    SentenceRef,
    SourceCount,
    Term,
    WriteOutcome,
    WriteStatus,
)
from claimlookup.store import elastic
from claimlookup.store.base import (
    ArticleNotFound,
    Store,
    StoreCorrupt,
    StoreError,
    StoreRebuilding,
    StoreUnavailable,
)
from claimlookup.store.elastic import ElasticStore, IndexNames
from claimlookup.store.elastic import adapter as elastic_adapter  # where ElasticStore looks its collaborators up

# --- domain fixtures ------------------------------------------------------------

TITLE = "Jets strike market in Maaret al-Numan"
BODY = "Russian jets struck a market, killing 20.  Russia's defence ministry denied it."


def unit(i: int) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[i] = 1.0
    return vector


def make_article(**changes: Any) -> Article:
    sentences = [
        Sentence(0, TITLE, 0, 37, entities=[EntityMention("Maaret al-Numan", "GPE", "maaret al-numan", 22, 37)],
                 vector=unit(0)),
        Sentence(1, "Russian jets struck a market, killing 20.", 0, 41,
                 entities=[EntityMention("Russian", "NORP", "russian", 0, 7)],
                 quantities=[Quantity(20.0, "20", "people", "killed", "exact", 38, 40)], vector=unit(1)),
        Sentence(2, "Russia's defence ministry denied it.", 43, 79,
                 entities=[EntityMention("Russia", "GPE", "russia", 0, 6)],
                 stance=Frame.DENIES, speaker="Russia's defence ministry", vector=unit(2)),
    ]
    base = Article(id="reuters:1", title=TITLE, body=BODY, source="Reuters", url="https://example.com/1",
                   published=date(2019, 7, 22), sentences=sentences)
    return dataclasses.replace(base, **changes)


ARTICLE = make_article()
HASH = ARTICLE.content_hash
GEN = HASH[:16]
ALIASES = IndexNames("claimlookup-articles", "claimlookup-sentences")


# --- Elasticsearch-shaped responses ------------------------------------------------

SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}


def search_response(hits: list[dict], total: int | None = None, aggregations: dict | None = None) -> dict:
    scores = [h["_score"] for h in hits if h.get("_score") is not None]
    resp: dict[str, Any] = {
        "took": 4, "timed_out": False, "_shards": SHARDS,
        "hits": {"total": {"value": len(hits) if total is None else total, "relation": "eq"},
                 "max_score": max(scores) if scores else None, "hits": hits},
    }
    if aggregations is not None:
        resp["aggregations"] = aggregations
    return resp


def hit(index: str, doc_id: str, score: float | None, source: dict, **extra: Any) -> dict:
    return {"_index": index, "_id": doc_id, "_score": score, "_source": source, **extra}


def article_source(article: Article = ARTICLE) -> dict:
    return elastic.article_document(article)


def sentence_source(position: int, article: Article = ARTICLE) -> dict:
    keys = sorted({e.key for e in article.entities})
    return elastic.sentence_document(article, article.sentences[position], keys, article.content_hash)


def mget_response(index: str, docs: list[tuple[str, dict | None]]) -> dict:
    out = []
    for doc_id, source in docs:
        if source is None:
            out.append({"_index": index, "_id": doc_id, "found": False})
        else:
            out.append({"_index": index, "_id": doc_id, "_version": 1, "_seq_no": 0, "_primary_term": 1,
                        "found": True, "_source": source})
    return {"docs": out}


# ==================================================================================
# 1. mapping, names and documents
# ==================================================================================


def mapping_fields(properties: dict, prefix: str = "") -> set[str]:
    fields = set()
    for name, spec in properties.items():
        fields.add(prefix + name)
        fields |= mapping_fields(spec.get("properties", {}), f"{prefix}{name}.")
    return fields


def document_fields(doc: dict, prefix: str = "") -> set[str]:
    fields = set()
    for name, value in doc.items():
        fields.add(prefix + name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                fields |= document_fields(item, f"{prefix}{name}.")
    return fields


def test_mapping_is_strict_and_every_written_field_is_mapped() -> None:
    mapping = elastic.load_mapping()
    for kind, doc in (("articles", article_source()), ("sentences", sentence_source(1))):
        assert mapping["mappings"][kind]["dynamic"] == "strict"
        assert document_fields(doc) <= mapping_fields(mapping["mappings"][kind]["properties"]), kind


def test_mapping_vector_matches_the_embedder() -> None:
    vector = elastic.load_mapping()["mappings"]["sentences"]["properties"]["vector"]
    assert vector["type"] == "dense_vector"
    assert (vector["dims"], vector["similarity"], vector["index"]) == (DIM, "cosine", True)


def test_mapping_text_fields_use_the_stemming_analyzer_it_defines() -> None:
    mapping = elastic.load_mapping()
    analyzer = mapping["settings"]["analysis"]["analyzer"]["news_english"]
    assert "news_porter" in analyzer["filter"] and "lowercase" in analyzer["filter"]
    for kind, field in (("articles", "title"), ("articles", "body"), ("sentences", "text")):
        assert mapping["mappings"][kind]["properties"][field]["analyzer"] == "news_english"
    assert mapping["mappings"]["articles"]["properties"]["entities"]["type"] == "nested"


def test_names_and_index_bodies() -> None:
    assert elastic.alias_names("claimlookup") == ALIASES
    assert elastic.versioned_names("cl", 1, "20260101000000000000") == IndexNames(
        "cl-articles-v1-20260101000000000000", "cl-sentences-v1-20260101000000000000")
    assert elastic.timestamp(datetime(2026, 11, 22, 1, 2, 3, 4005, tzinfo=UTC)) == "20261122010203004005"
    mapping = elastic.load_mapping()
    assert elastic.index_body(mapping, "sentences", alias="cl-sentences") == {
        "settings": mapping["settings"], "mappings": mapping["mappings"]["sentences"],
        "aliases": {"cl-sentences": {}}}
    assert "aliases" not in elastic.index_body(mapping, "articles")


def test_alias_swap_is_one_atomic_action_list() -> None:
    new = IndexNames("cl-articles-v1-2", "cl-sentences-v1-2")
    actions = elastic.alias_swap_actions(new, IndexNames("cl-articles", "cl-sentences"),
                                         ["cl-sentences-v1-1", "cl-articles-v1-1"])
    assert actions == [
        {"add": {"index": "cl-articles-v1-2", "alias": "cl-articles"}},
        {"add": {"index": "cl-sentences-v1-2", "alias": "cl-sentences"}},
        {"remove_index": {"index": "cl-articles-v1-1"}},
        {"remove_index": {"index": "cl-sentences-v1-1"}},
    ]
    assert elastic.alias_swap_actions(new, IndexNames("a", "s"), []) == actions[:0] + [
        {"add": {"index": "cl-articles-v1-2", "alias": "a"}}, {"add": {"index": "cl-sentences-v1-2", "alias": "s"}}]


def test_parse_alias_indices() -> None:
    resp = {"cl-articles-v1-2": {"aliases": {"cl-articles": {}}}, "cl-articles-v1-1": {"aliases": {"cl-articles": {}}}}
    assert elastic.parse_alias_indices(resp) == ["cl-articles-v1-1", "cl-articles-v1-2"]


def test_ids_are_generation_specific_and_fit_elasticsearch() -> None:
    assert elastic.sentence_id("reuters:1", HASH, 2) == f"reuters:1:{GEN}:2"
    assert elastic.sentence_ref_key("reuters:1", 2) == "reuters:1:2"
    assert elastic.article_doc_id("reuters:1") == "reuters:1"
    long_id = "https://example.com/" + "x" * 600
    doc_id = elastic.article_doc_id(long_id)
    assert doc_id.startswith("sha256:") and len(doc_id) == 71
    assert len(elastic.sentence_id(long_id, HASH, 12345).encode()) <= 512


def test_article_document() -> None:
    assert article_source() == {
        "article_id": "reuters:1",
        "title": TITLE,
        "body": BODY,
        "lead": "Russian jets struck a market, killing 20. Russia's defence ministry denied it.",
        "source": "Reuters",
        "url": "https://example.com/1",
        "published": "2019-07-22",
        "language": "en",
        "content_hash": HASH,
        "posted": False,
        "positions": [0, 1, 2],
        "entities": [{"key": "maaret al-numan", "label": "GPE", "name": "Maaret al-Numan"},
                     {"key": "russian", "label": "NORP", "name": "Russian"},
                     {"key": "russia", "label": "GPE", "name": "Russia"}],
    }


def test_entity_summary_takes_the_most_frequent_name_and_label() -> None:
    mentions = [EntityMention("the Observatory", "ORG", "observatory", 0, 15),
                EntityMention("Observatory", "ORG", "observatory", 0, 11),
                EntityMention("Observatory", "FAC", "observatory", 0, 11)]
    article = make_article(sentences=[Sentence(0, "t", 0, 1, entities=mentions)])
    assert elastic.entity_summary(article) == [{"key": "observatory", "label": "ORG", "name": "Observatory"}]


def test_sentence_document() -> None:
    doc = sentence_source(1)
    assert doc.pop("vector") == unit(1).tolist()
    assert doc == {
        "ref": "reuters:1:1",
        "article_id": "reuters:1",
        "article_hash": HASH,
        "position": 1,
        "text": "Russian jets struck a market, killing 20.",
        "start": 0,
        "end": 41,
        "stance": "asserts",
        "speaker": None,
        "entities": [{"key": "russian", "label": "NORP", "name": "Russian", "start": 0, "end": 7}],
        "quantities": [{"value": 20.0, "text": "20", "counts": "people", "event": "killed",
                        "qualifier": "exact", "scope": "event", "start": 38, "end": 40}],
        "article_entities": ["maaret al-numan", "russia", "russian"],
        "title": TITLE,
        "source": "Reuters",
        "url": "https://example.com/1",
        "published": "2019-07-22",
    }


def test_sentence_without_vector_has_no_vector_field() -> None:
    article = make_article(sentences=[dataclasses.replace(ARTICLE.sentences[0], vector=None)])
    assert "vector" not in sentence_source(0, article)


def test_bulk_actions() -> None:
    actions = list(elastic.sentence_actions(ARTICLE, "cl-sentences"))
    assert [(a["_op_type"], a["_index"], a["_id"]) for a in actions] == [
        ("index", "cl-sentences", f"reuters:1:{GEN}:{p}") for p in range(3)]
    assert actions[2]["_source"] == sentence_source(2)
    assert elastic.article_action(ARTICLE, "cl-articles") == {
        "_op_type": "index", "_index": "cl-articles", "_id": "reuters:1", "_source": article_source()}


def test_cleanup_and_delete_bodies() -> None:
    assert elastic.build_cleanup_body({"a": "h1", "b": "h2"}) == {"query": {"bool": {"should": [
        {"bool": {"filter": [{"term": {"article_id": "a"}}], "must_not": [{"term": {"article_hash": "h1"}}]}},
        {"bool": {"filter": [{"term": {"article_id": "b"}}], "must_not": [{"term": {"article_hash": "h2"}}]}},
    ], "minimum_should_match": 1}}}
    assert elastic.build_delete_sentences_body("a") == {"query": {"term": {"article_id": "a"}}}


def test_sweep_bodies() -> None:
    sources = [{"article_id": {"terms": {"field": "article_id"}}},
               {"article_hash": {"terms": {"field": "article_hash"}}}]
    assert elastic.build_generations_body() == {"size": 0, "track_total_hits": False, "aggs": {
        "generations": {"composite": {"size": 1000, "sources": sources}}}}
    after = {"article_id": "a", "article_hash": "h1"}
    assert elastic.build_generations_body(after)["aggs"]["generations"]["composite"] == {
        "size": 1000, "sources": sources, "after": after}
    assert elastic.build_generations_cleanup_body([("a", "h1"), ("b", "h2")]) == {"query": {"bool": {"should": [
        {"bool": {"filter": [{"term": {"article_id": "a"}}, {"term": {"article_hash": "h1"}}]}},
        {"bool": {"filter": [{"term": {"article_id": "b"}}, {"term": {"article_hash": "h2"}}]}},
    ], "minimum_should_match": 1}}}


def test_uncommitted_sentence_actions_name_exactly_the_new_generation() -> None:
    a, b, c = make_article(id="a"), make_article(id="b"), make_article(id="c")
    committed = {"a": a.content_hash, "c": "0" * 64}  # a committed; b never; c: another writer's generation
    actions = list(elastic.uncommitted_sentence_actions([a, b, c], committed, "cl-sentences"))
    assert actions == [{"_op_type": "delete", "_index": "cl-sentences", "_id": elastic.sentence_id(x.id, HASH, p)}
                       for x in (b, c) for p in range(3)]
    assert "0000000000000000" not in str(actions)


def composite_page(pairs: list[tuple[str, str]], after: bool = True) -> dict:
    """A size-0 search answering the sweep's composite aggregation with ``pairs``."""
    agg: dict[str, Any] = {"buckets": [{"key": {"article_id": a, "article_hash": h}, "doc_count": 3}
                                       for a, h in pairs]}
    if after and pairs:
        agg["after_key"] = dict(agg["buckets"][-1]["key"])
    return search_response([], aggregations={"generations": agg}) | {"hits": {
        "total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []}}


def test_parse_generations_page() -> None:
    page = elastic.parse_generations_page(composite_page([("a", "h1"), ("b", "h2")]), size=2)
    assert page.pairs == (("a", "h1"), ("b", "h2")) and page.after == {"article_id": "b", "article_hash": "h2"}
    assert elastic.parse_generations_page(composite_page([("a", "h1")]), size=2).after is None  # short: the last
    assert elastic.parse_generations_page(composite_page([]), size=2) == elastic.GenerationsPage((), None)
    with pytest.raises(elastic.StorePartialResults):
        elastic.parse_generations_page(composite_page([("a", "h1")]) | {"timed_out": True}, size=2)
    assert elastic.uncommitted_generations([("a", "h1"), ("a", "h0"), ("b", "h2"), ("c", "h3")],
                                           {"a": "h1", "c": "h3"}) == {"a": {"h0"}, "b": {"h2"}}


# --- write planning -------------------------------------------------------------------


def test_batches_split_on_size_and_on_a_repeated_id() -> None:
    a, b, c = (make_article(id=i) for i in "abc")
    assert [[x.id for x in batch] for batch in elastic.batches([a, b, c], size=2)] == [["a", "b"], ["c"]]
    assert [[x.id for x in batch] for batch in elastic.batches([a, b, a, c], size=10)] == [["a", "b"], ["a", "c"]]
    assert list(elastic.batches([], size=2)) == []


def test_batches_hand_out_earlier_articles_before_refusing_one_without_sentences() -> None:
    gen = elastic.batches([make_article(id="a"), make_article(id="b", sentences=[])], size=10)
    assert [x.id for x in next(gen)] == ["a"]
    with pytest.raises(ValueError, match="no sentences"):
        next(gen)


def test_plan_writes_and_outcomes() -> None:
    new, same, changed = make_article(id="n"), make_article(id="s"), make_article(id="c")
    stored = {"s": same.content_hash, "c": "0" * 64}
    assert elastic.plan_writes([new, same, changed], stored) == [
        WriteStatus.NEW, WriteStatus.UNCHANGED, WriteStatus.UPDATED]
    assert elastic.write_outcome(new, WriteStatus.NEW) == WriteOutcome("n", WriteStatus.NEW, 3, 3)
    assert elastic.write_outcome(same, WriteStatus.UNCHANGED) == WriteOutcome("s", WriteStatus.UNCHANGED, 0, 0)


def bulk_item(doc_id: str, status: int, error: dict | None = None, op: str = "index") -> dict:
    item: dict[str, Any] = {"_index": "cl-sentences-v1-1", "_id": doc_id, "status": status}
    if error:
        item["error"] = error
    else:
        item.update({"_version": 1, "result": "created", "_shards": {"total": 2, "successful": 1, "failed": 0},
                     "_seq_no": 0, "_primary_term": 1})
    return {op: item}


MAPPER_ERROR = {"type": "document_parsing_exception", "reason": "[1:12] failed to parse field [published]"}


def test_bulk_error_kinds() -> None:
    rejected = elastic.bulk_error([bulk_item("x:1", 400, MAPPER_ERROR)])
    assert type(rejected) is StoreError
    assert "'x:1'" in str(rejected) and "document_parsing_exception" in str(rejected)
    overloaded = elastic.bulk_error([bulk_item("x:1", 400, MAPPER_ERROR),
                                     bulk_item("x:2", 429, {"type": "es_rejected_execution_exception",
                                                            "reason": "rejected execution"})])
    assert isinstance(overloaded, StoreUnavailable) and str(overloaded).startswith("2 document(s)")


def test_check_delete_by_query() -> None:
    ok = {"took": 12, "timed_out": False, "total": 3, "deleted": 3, "batches": 1, "version_conflicts": 0,
          "noops": 0, "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0, "requests_per_second": -1.0,
          "throttled_until_millis": 0, "failures": []}
    elastic.check_delete_by_query(ok)
    with pytest.raises(StoreUnavailable):
        elastic.check_delete_by_query({**ok, "failures": [{"index": "s", "id": "x", "cause": {}, "status": 500}]})
    with pytest.raises(StoreUnavailable):
        elastic.check_delete_by_query({**ok, "timed_out": True})
    assert elastic.parse_deleted({**ok, "version_conflicts": 2}) == 3  # written again since the snapshot: kept
    with pytest.raises(StoreUnavailable):
        elastic.parse_deleted({**ok, "timed_out": True})


# ==================================================================================
# 1b. query compilation
# ==================================================================================


def query(*groups: tuple[Term, ...], excluded: tuple[Term, ...] = ()) -> ParsedQuery:
    return ParsedQuery(groups=tuple(groups), excluded=excluded)


def test_term_clauses_words_and_phrases() -> None:
    assert elastic.term_clause(Term("al-Numan"), ["text"]) == {
        "match": {"text": {"query": "al-Numan", "operator": "and"}}}
    assert elastic.term_clause(Term("chemical weapons", phrase=True), ["text"]) == {
        "match_phrase": {"text": {"query": "chemical weapons"}}}
    assert elastic.term_clause(Term("sarin"), ["title^2", "body"]) == {
        "multi_match": {"query": "sarin", "fields": ["title^2", "body"], "type": "best_fields", "operator": "and"}}
    assert elastic.term_clause(Term("air strike", phrase=True), ["title^2", "body"]) == {
        "multi_match": {"query": "air strike", "fields": ["title^2", "body"], "type": "phrase"}}


def test_query_groups_are_anded_alternatives_ored_and_exclusions_negated() -> None:
    parsed = query((Term("aleppo"), Term("idlib")), (Term("army"),),
                   excluded=(Term("russia"), Term("air strike", phrase=True)))
    assert elastic.build_query(parsed, ["text"], [{"term": {"source": "x"}}]) == {"bool": {
        "must": [
            {"bool": {"should": [{"match": {"text": {"query": "aleppo", "operator": "and"}}},
                                 {"match": {"text": {"query": "idlib", "operator": "and"}}}],
                      "minimum_should_match": 1}},
            {"match": {"text": {"query": "army", "operator": "and"}}},
        ],
        "must_not": [{"match": {"text": {"query": "russia", "operator": "and"}}},
                     {"match_phrase": {"text": {"query": "air strike"}}}],
        "filter": [{"term": {"source": "x"}}],
    }}


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_user_text_is_never_query_syntax() -> None:
    nasty = 'title:x OR (y AND "z") \\ * NOT {"script": 1}'
    for level in ("article", "sentence"):
        body = elastic.build_search_body(SearchRequest(query=query((Term(nasty),), (Term(nasty, phrase=True),),
                                                                   excluded=(Term(nasty),)), level=level))
        assert not all_keys(body) & {"query_string", "simple_query_string", "script", "script_score", "wildcard",
                                     "regexp"}
    assert elastic.build_query(query((Term(nasty),)), ["text"])["bool"]["must"] == [
        {"match": {"text": {"query": nasty, "operator": "and"}}}]


def test_empty_query_matches_everything() -> None:
    assert elastic.build_query(ParsedQuery(), ["text"]) == {"match_all": {}}
    assert elastic.build_query(ParsedQuery(), ["text"], [{"term": {"source": "x"}}]) == {
        "bool": {"filter": [{"term": {"source": "x"}}]}}


def sources_clause(*names: str) -> dict:
    """The source filter: any of the names, whatever their case."""
    return {"bool": {"should": [{"term": {"source": {"value": n, "case_insensitive": True}}} for n in names],
                     "minimum_should_match": 1}}


def test_filters() -> None:
    filters = Filters(sources=("Reuters", "SANA"), date_from=date(2019, 1, 1), date_to=date(2019, 12, 31),
                      entities=("aleppo", "russia"), exclude_articles=("a1",))
    assert elastic.filter_clauses(filters, "entities.key") == [
        sources_clause("Reuters", "SANA"),
        {"range": {"published": {"gte": "2019-01-01", "lte": "2019-12-31"}}},
        {"term": {"entities.key": "aleppo"}},
        {"term": {"entities.key": "russia"}},
        {"bool": {"must_not": [{"terms": {"article_id": ["a1"]}}]}},
    ]
    assert elastic.filter_clauses(Filters(date_to=date(2019, 1, 1)), "x") == [
        {"range": {"published": {"lte": "2019-01-01"}}}]
    assert elastic.filter_clauses(Filters(), "x") == []


HIGHLIGHT_ARTICLE = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html", "fields": {
    "title": {"number_of_fragments": 0},
    "body": {"fragment_size": 200, "number_of_fragments": 1}}}
ARTICLE_AGGS = {
    "sources": {"terms": {"field": "source", "size": 20}},
    "entities": {"nested": {"path": "entities"}, "aggs": {"keys": {
        "terms": {"field": "entities.key", "size": 20},
        "aggs": {"name": {"terms": {"field": "entities.name", "size": 1}},
                 "label": {"terms": {"field": "entities.label", "size": 1}}}}}},
    "months": {"date_histogram": {"field": "published", "calendar_interval": "month", "format": "yyyy-MM",
                                  "min_doc_count": 1}},
}


def test_article_search_body() -> None:
    request = SearchRequest(query=query((Term("sarin"),)), filters=Filters(sources=("Reuters",)), page=3, size=20)
    assert elastic.build_search_body(request) == {
        "query": {"bool": {
            "must": [{"multi_match": {"query": "sarin", "fields": ["title^2", "body"], "type": "best_fields",
                                      "operator": "and"}}],
            "filter": [sources_clause("Reuters")]}},
        "from": 40,
        "size": 20,
        "sort": [{"_score": {"order": "desc"}}, {"article_id": "asc"}],
        "track_total_hits": True,
        "track_scores": True,
        "_source": ["article_id", "title", "source", "published", "url", "lead"],
        "highlight": HIGHLIGHT_ARTICLE,
        "aggs": ARTICLE_AGGS,
    }


def test_sentence_search_body_sorted_by_date_without_facets() -> None:
    request = SearchRequest(query=query((Term("killed"),)), level="sentence", sort="date", facets=False,
                            filters=Filters(entities=("aleppo",)))
    assert elastic.build_search_body(request) == {
        "query": {"bool": {"must": [{"match": {"text": {"query": "killed", "operator": "and"}}}],
                           "filter": [{"term": {"article_entities": "aleppo"}}]}},
        "from": 0,
        "size": 10,
        "sort": [{"published": {"order": "desc", "missing": "_last"}}, {"_score": {"order": "desc"}},
                 {"article_id": "asc"}, {"position": "asc"}],
        "track_total_hits": True,
        "track_scores": True,
        "_source": ["article_id", "article_hash", "position", "text", "title", "source", "published", "url"],
        "highlight": {"pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
                      "fields": {"text": {"number_of_fragments": 0}}},
    }


def test_listing_is_newest_first_without_highlighting() -> None:
    body = elastic.build_search_body(SearchRequest(facets=False))
    assert body["query"] == {"match_all": {}}
    assert body["sort"][0] == {"published": {"order": "desc", "missing": "_last"}}
    assert "highlight" not in body


def test_sentence_facets_count_articles() -> None:
    aggs = elastic.facet_aggs("sentence")
    order = [{"articles": "desc"}, {"_key": "asc"}]
    articles = {"articles": {"cardinality": {"field": "article_id"}}}
    assert aggs == {
        "sources": {"terms": {"field": "source", "size": 20, "order": order}, "aggs": articles},
        "entities": {"terms": {"field": "article_entities", "size": 20, "order": order}, "aggs": articles},
        "months": {"date_histogram": {"field": "published", "calendar_interval": "month", "format": "yyyy-MM",
                                      "min_doc_count": 1}, "aggs": articles},
    }


@pytest.mark.parametrize(("page", "size", "window"), [
    (1, 10, (0, 10)), (2, 25, (25, 25)), (1000, 10, (9990, 10)), (500, 20, (9980, 20)), (1000, 20, (10000, 0)),
    (501, 20, (10000, 0)), (99999, 10, (10000, 0)),
])
def test_page_window_stays_inside_max_result_window(page: int, size: int, window: tuple[int, int]) -> None:
    assert elastic.page_window(page, size) == window


@pytest.mark.parametrize("request_", [
    SearchRequest(level="paragraph"), SearchRequest(sort="popular"), SearchRequest(page=0), SearchRequest(size=0)])
def test_bad_search_requests_are_programming_errors(request_: SearchRequest) -> None:
    with pytest.raises(ValueError):
        elastic.build_search_body(request_)


def test_lexical_body_restricted_to_given_sentences() -> None:
    refs = [SentenceRef("b", 3), SentenceRef("a", 0), SentenceRef("b", 3)]
    body = elastic.build_lexical_body(query((Term("sarin"), Term("chlorine"))), Filters(sources=("SANA",)), 50, refs)
    assert body == {
        "query": {"bool": {
            "must": [{"bool": {"should": [{"match": {"text": {"query": "sarin", "operator": "and"}}},
                                          {"match": {"text": {"query": "chlorine", "operator": "and"}}}],
                               "minimum_should_match": 1}}],
            "filter": [sources_clause("SANA"), {"terms": {"ref": ["a:0", "b:3"]}}]}},
        "size": 50,
        "sort": [{"_score": {"order": "desc"}}, {"article_id": "asc"}, {"position": "asc"}],
        "track_scores": True,
        "track_total_hits": False,
        "_source": ["article_id", "position", "article_hash"],
    }
    assert "filter" not in elastic.build_lexical_body(query((Term("x"),)), Filters(), 5)["query"]["bool"]


def test_knn_body_with_filters_inside_knn() -> None:
    vector = np.full(DIM, 0.05, dtype=np.float32)
    body = elastic.build_knn_body(vector, Filters(exclude_articles=("a1",)), 30)
    assert body == {
        "knn": {"field": "vector", "query_vector": vector.tolist(), "k": 30, "num_candidates": 120,
                "filter": [{"bool": {"must_not": [{"terms": {"article_id": ["a1"]}}]}}]},
        "size": 30,
        "track_total_hits": False,
        "_source": ["article_id", "position", "article_hash"],
    }
    assert len(body["knn"]["query_vector"]) == DIM and isinstance(body["knn"]["query_vector"][0], float)
    assert "filter" not in elastic.build_knn_body(vector, Filters(), 5)["knn"]


@pytest.mark.parametrize(("limit", "candidates"), [(1, 100), (25, 100), (30, 120), (5000, 10000), (10000, 10000)])
def test_knn_num_candidates(limit: int, candidates: int) -> None:
    assert elastic.knn_candidates(limit) == candidates


def test_knn_searches_batch_one_body_per_vector() -> None:
    vectors = np.stack([unit(0), unit(1)])
    searches = elastic.build_knn_searches(vectors, Filters(), 10)
    assert searches[0] == {} and searches[2] == {}
    assert searches[1] == elastic.build_knn_body(unit(0), Filters(), 10)
    assert searches[3]["knn"]["query_vector"] == unit(1).tolist()
    assert len(searches) == 4


def test_entities_body() -> None:
    keys_agg = {"terms": {"field": "entities.key", "size": 5},
                "aggs": {"name": {"terms": {"field": "entities.name", "size": 1}},
                         "label": {"terms": {"field": "entities.label", "size": 1}}}}
    assert elastic.build_entities_body("Al", "GPE", 5) == {"size": 0, "aggs": {"entities": {
        "nested": {"path": "entities"}, "aggs": {"matching": {
            "filter": {"bool": {"filter": [
                {"bool": {"should": [
                    {"prefix": {"entities.key": {"value": "Al", "case_insensitive": True}}},
                    {"prefix": {"entities.name": {"value": "Al", "case_insensitive": True}}}],
                    "minimum_should_match": 1}},
                {"term": {"entities.label": {"value": "GPE", "case_insensitive": True}}}]}},
            "aggs": {"keys": keys_agg}}}}}}
    everything = elastic.build_entities_body(limit=5)
    assert everything["aggs"]["entities"]["aggs"]["matching"]["filter"] == {"match_all": {}}
    named = elastic.build_entities_body(limit=2, keys=["aleppo", "russia"])
    assert named["aggs"]["entities"]["aggs"]["matching"]["filter"] == {
        "bool": {"filter": [{"terms": {"entities.key": ["aleppo", "russia"]}}]}}


def test_entity_spellings_body_and_parse() -> None:
    body = elastic.build_entity_spellings_body(["russia", "aleppo", "russia"], 3)
    assert body == {"size": 0, "query": {"nested": {"path": "entities", "query": {
        "terms": {"entities.key": ["aleppo", "russia"]}}}},
        "aggs": {"entities": {"nested": {"path": "entities"}, "aggs": {"matching": {
            "filter": {"terms": {"entities.key": ["aleppo", "russia"]}},
            "aggs": {"keys": {"terms": {"field": "entities.key", "size": 2},
                              "aggs": {"names": {"terms": {"field": "entities.name", "size": 12}}}}}}}}}}
    resp = {"aggregations": {"entities": {"matching": {"keys": {"buckets": [
        {"key": "aleppo", "doc_count": 5, "names": {"buckets": [
            {"key": "Aleppo", "doc_count": 3}, {"key": "ALEPPO", "doc_count": 1}, {"key": "Halab", "doc_count": 1}]}},
    ]}}}}}
    # case variants fold into the casing most articles use, most articles first
    assert elastic.parse_entity_spellings(resp, 3) == {"aleppo": ["Aleppo", "Halab"]}
    assert elastic.parse_entity_spellings(resp, 1) == {"aleppo": ["Aleppo"]}


def test_sources_body() -> None:
    dates = {"field": "published", "format": "yyyy-MM-dd"}
    assert elastic.build_sources_body() == {"size": 0, "aggs": {"sources": {
        "terms": {"field": "source", "size": 10000},
        "aggs": {"first": {"min": dates}, "last": {"max": dates}}}}}


# ==================================================================================
# 1c. response parsing
# ==================================================================================


def test_parse_article_search_response_with_highlights_and_facets() -> None:
    body_hit = hit("claimlookup-articles-v1-1", "a1", 7.5,
                   {"article_id": "a1", "title": "Sarin & chlorine", "source": "Reuters", "published": "2017-04-04",
                    "url": "https://example.com/a1", "lead": "Lead text"},
                   highlight={"title": ["<mark>Sarin</mark> &amp; chlorine"],
                              "body": ["Witnesses said <mark>sarin</mark> was used &lt;again&gt;."]},
                   sort=[7.5, "a1"])
    title_hit = hit("claimlookup-articles-v1-1", "a2", 3.25,
                    {"article_id": "a2", "title": "Sarin report", "source": None, "published": None, "url": None,
                     "lead": "A long <b>body</b>"},
                    highlight={"title": ["<mark>Sarin</mark> report"]}, sort=[3.25, "a2"])
    bare_hit = hit("claimlookup-articles-v1-1", "a3", None,
                   {"article_id": "a3", "title": "Untitled", "published": "2017-05-01", "lead": "x <y>"})
    aggregations = {
        "sources": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                    "buckets": [{"key": "Reuters", "doc_count": 2}, {"key": "SANA", "doc_count": 1}]},
        "entities": {"doc_count": 9, "keys": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 4, "buckets": [
            {"key": "khan shaykhun", "doc_count": 3,
             "name": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 1,
                      "buckets": [{"key": "Khan Shaykhun", "doc_count": 2}]},
             "label": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                       "buckets": [{"key": "GPE", "doc_count": 3}]}}]}},
        "months": {"buckets": [{"key_as_string": "2017-04", "key": 1491004800000, "doc_count": 2},
                               {"key_as_string": "2017-05", "key": 1493596800000, "doc_count": 1}]},
    }
    page = elastic.parse_search_response(search_response([body_hit, title_hit, bare_hit], total=41, aggregations=
                                                         aggregations), "article")
    assert page == SearchPage(
        total=41,
        hits=[
            SearchHit("a1", "Sarin & chlorine", "Reuters", date(2017, 4, 4), "https://example.com/a1", 7.5,
                      "Witnesses said <mark>sarin</mark> was used &lt;again&gt;."),
            SearchHit("a2", "Sarin report", None, None, None, 3.25, "<mark>Sarin</mark> report"),
            SearchHit("a3", "Untitled", None, date(2017, 5, 1), None, 0.0, "x &lt;y&gt;"),
        ],
        facets=Facets(
            sources=[FacetCount("Reuters", 2), FacetCount("SANA", 1)],
            entities=[FacetCount("khan shaykhun", 3, label="GPE", name="Khan Shaykhun")],
            months=[FacetCount("2017-04", 2), FacetCount("2017-05", 1)],
        ),
    )


def test_lead_snippet_cuts_at_a_word_and_escapes() -> None:
    assert elastic.lead_snippet("a <b>  c") == "a &lt;b&gt; c"
    text = "word " * 100
    snippet = elastic.lead_snippet(text)
    assert snippet.endswith("word\u2026") and len(snippet) <= elastic.LEAD_CHARS + 1


def sentence_hit(article_id: str, position: int, content_hash: str, score: float, text: str,
                 highlight: dict | None = None) -> dict:
    source = {"article_id": article_id, "article_hash": content_hash, "position": position, "text": text,
              "title": f"Title {article_id}", "source": "SANA", "published": "2018-02-01", "url": None}
    extra = {"highlight": highlight} if highlight else {}
    return hit("claimlookup-sentences-v1-1", f"{article_id}:{content_hash[:16]}:{position}", score, source, **extra)


def test_parse_sentence_search_response_drops_uncommitted_generations() -> None:
    resp = search_response([
        sentence_hit("a1", 2, "h-new", 5.0, "20 killed in <Idlib>",
                     {"text": ["20 <mark>killed</mark> in &lt;Idlib&gt;"]}),
        sentence_hit("a1", 2, "h-old", 4.0, "18 killed"),
        sentence_hit("a2", 0, "h2", 1.5, "Nothing & more"),
        sentence_hit("gone", 1, "h3", 1.0, "deleted article"),
    ], total=4, aggregations={
        "sources": {"buckets": [{"key": "SANA", "doc_count": 4, "articles": {"value": 2}}]},
        "entities": {"buckets": [{"key": "idlib", "doc_count": 3, "articles": {"value": 2}},
                                 {"key": "nowhere", "doc_count": 1, "articles": {"value": 1}}]},
        "months": {"buckets": [{"key_as_string": "2018-02", "key": 1517443200000, "doc_count": 4,
                                "articles": {"value": 2}}]},
    })
    assert elastic.hit_article_ids(resp) == ["a1", "a2", "gone"]
    assert elastic.facet_entity_keys(resp) == ["idlib", "nowhere"]
    known = {"idlib": EntityCount("idlib", "Idlib", "GPE", 7)}
    page = elastic.parse_search_response(resp, "sentence", {"a1": "h-new", "a2": "h2"}, known)
    assert page.hits == [
        SearchHit("a1", "Title a1", "SANA", date(2018, 2, 1), None, 5.0,
                  "20 <mark>killed</mark> in &lt;Idlib&gt;", sentence_position=2),
        SearchHit("a2", "Title a2", "SANA", date(2018, 2, 1), None, 1.5, "Nothing &amp; more", sentence_position=0),
    ]
    assert page.total == 4
    assert page.facets == Facets(sources=[FacetCount("SANA", 2)],
                                 entities=[FacetCount("idlib", 2, label="GPE", name="Idlib"),
                                           FacetCount("nowhere", 1)],
                                 months=[FacetCount("2018-02", 2)])


def test_parse_search_response_without_facets() -> None:
    page = elastic.parse_search_response(search_response([], total=0), "article")
    assert page == SearchPage(total=0, hits=[], facets=Facets())


def test_parse_lexical_candidates() -> None:
    resp = search_response([sentence_hit("a1", 0, "h1", 12.5, "t"), sentence_hit("a2", 4, "stale", 9.0, "t"),
                            sentence_hit("a3", 7, "h3", 3.0, "t")])
    assert elastic.parse_candidates(resp, {"a1": "h1", "a2": "h2", "a3": "h3"}) == [
        Candidate(SentenceRef("a1", 0), 12.5), Candidate(SentenceRef("a3", 7), 3.0)]
    assert len(elastic.parse_candidates(resp)) == 3


def test_parse_msearch_knn_candidates_as_cosines() -> None:
    resp = {"took": 9, "responses": [
        {**search_response([sentence_hit("a1", 1, "h1", 0.975, "t"), sentence_hit("a2", 0, "h2", 0.5, "t")]),
         "status": 200},
        {**search_response([]), "status": 200},
    ]}
    result = elastic.parse_msearch_candidates(resp, {"a1": "h1", "a2": "h2"})
    assert [[c.ref for c in row] for row in result] == [[SentenceRef("a1", 1), SentenceRef("a2", 0)], []]
    assert result[0][0].score == pytest.approx(0.95)
    assert result[0][1].score == pytest.approx(0.0)
    assert elastic.knn_cosine(1.0) == 1.0 and elastic.knn_cosine(0.0) == -1.0


@pytest.mark.parametrize(("status", "error_type"), [(500, StoreUnavailable), (429, StoreUnavailable),
                                                    (400, StoreError)])
def test_msearch_item_errors_raise(status: int, error_type: type[StoreError]) -> None:
    failed = {"error": {"root_cause": [{"type": "x_exception", "reason": "boom"}],
                        "type": "search_phase_execution_exception", "reason": "all shards failed"}, "status": status}
    resp = {"took": 1, "responses": [{**search_response([]), "status": 200}, failed]}
    with pytest.raises(error_type, match="search_phase_execution_exception") as raised:
        elastic.parse_msearch_candidates(resp)
    assert type(raised.value) is error_type


def test_parse_mget_content_hashes_skips_missing_docs() -> None:
    resp = mget_response("claimlookup-articles-v1-1", [
        ("a1", {"article_id": "a1", "content_hash": "h1"}), ("nope", None),
        ("sha256:abc", {"article_id": "https://long", "content_hash": "h2"})])
    assert elastic.parse_content_hashes(resp) == {"a1": "h1", "https://long": "h2"}


def test_mget_doc_errors_raise() -> None:
    resp = {"docs": [{"_index": "claimlookup-articles", "_id": "a1", "error": {
        "root_cause": [{"type": "index_not_found_exception", "reason": "no such index [claimlookup-articles]"}],
        "type": "index_not_found_exception", "reason": "no such index [claimlookup-articles]"}}]}
    with pytest.raises(StoreUnavailable, match="index_not_found_exception"):
        elastic.found_sources(resp)


def test_parse_article_round_trips_the_documents() -> None:
    sentences = [sentence_source(p) for p in (2, 0, 1)]
    for doc in sentences:
        doc.pop("vector")
    expected = make_article(sentences=[dataclasses.replace(s, vector=None) for s in ARTICLE.sentences])
    assert elastic.parse_article(article_source(), sentences) == expected


def test_parse_stored_sentence_keeps_the_vector_and_article_facts() -> None:
    stored = elastic.parse_stored_sentence(sentence_source(2))
    assert stored.ref == SentenceRef("reuters:1", 2)
    assert (stored.title, stored.source, stored.published, stored.url, stored.article_hash) == (
        TITLE, "Reuters", date(2019, 7, 22), "https://example.com/1", HASH)
    assert stored.sentence.stance is Frame.DENIES and stored.sentence.speaker == "Russia's defence ministry"
    assert stored.sentence.vector is not None and stored.sentence.vector.dtype == np.float32
    np.testing.assert_array_equal(stored.sentence.vector, unit(2))


def test_parse_entities_response() -> None:
    resp = search_response([], total=12, aggregations={"entities": {"doc_count": 40, "matching": {
        "doc_count": 6, "keys": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
            {"key": "aleppo", "doc_count": 4, "name": {"buckets": [{"key": "Aleppo", "doc_count": 4}]},
             "label": {"buckets": [{"key": "GPE", "doc_count": 4}]}},
            {"key": "al-assad", "doc_count": 2, "name": {"buckets": [{"key": "al-Assad", "doc_count": 1}]},
             "label": {"buckets": [{"key": "PERSON", "doc_count": 2}]}}]}}}})
    assert elastic.parse_entities_response(resp) == [EntityCount("aleppo", "Aleppo", "GPE", 4),
                                                     EntityCount("al-assad", "al-Assad", "PERSON", 2)]


def test_parse_sources_response() -> None:
    resp = search_response([], total=5, aggregations={"sources": {"doc_count_error_upper_bound": 0,
                                                                    "sum_other_doc_count": 0, "buckets": [
        {"key": "Reuters", "doc_count": 3,
         "first": {"value": 1483228800000.0, "value_as_string": "2017-01-01"},
         "last": {"value": 1514678400000.0, "value_as_string": "2017-12-31"}},
        {"key": "Undated Wire", "doc_count": 2, "first": {"value": None}, "last": {"value": None}}]}})
    assert elastic.parse_sources_response(resp) == [
        SourceCount("Reuters", 3, date(2017, 1, 1), date(2017, 12, 31)), SourceCount("Undated Wire", 2, None, None)]


# ==================================================================================
# 2. error translation with a client that raises what elasticsearch-py raises
# ==================================================================================

NODE = NodeConfig("http", "es.test", 9200)


def api_error(status: int, body: Any) -> ApiError:
    """An ApiError built the way elasticsearch-py builds one from a response."""
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders({"content-type": "application/json"}),
                           duration=0.01, node=NODE)
    message = body.get("error", str(body)) if isinstance(body, dict) else str(body)
    if isinstance(message, dict):
        message = message.get("type", str(body))
    error_class = {400: BadRequestError, 404: NotFoundError}.get(status, ApiError)
    return error_class(message=message, meta=meta, body=body)


def es_error(kind: str, reason: str, status: int) -> dict:
    return {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
            "status": status}


# Factories, not instances: the transport mutates the errors it re-raises.
def unreachable() -> ConnectionError:  # as elastic_transport's urllib3 node raises it
    return ConnectionError("Failed to establish a new connection: [Errno 111] Connection refused",
                           errors=(ConnectionRefusedError(111, "Connection refused"),))


def timed_out() -> ConnectionTimeout:
    return ConnectionTimeout("Connection timed out during request", errors=(TimeoutError("read timed out"),))


def server_error() -> ApiError:
    return api_error(503, es_error("cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE]", 503))


def overloaded() -> ApiError:
    return api_error(429, es_error("es_rejected_execution_exception", "rejected execution", 429))


def no_index() -> ApiError:
    return api_error(404, es_error("index_not_found_exception", "no such index [claimlookup-articles]", 404))


def doc_missing() -> ApiError:
    return api_error(404, {"_index": "claimlookup-articles-v1-1", "_id": "x", "found": False})


def bad_request() -> ApiError:
    return api_error(400, es_error("parsing_exception", "unknown query [mtch]", 400))


class RaisingClient:
    """Stands in for ``Elasticsearch``: every API call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.indices = self.cluster = self
        self.calls: list[str] = []

    def options(self, **_: Any) -> RaisingClient:
        return self

    def close(self) -> None:
        self.calls.append("close")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(**_: Any) -> Any:
            self.calls.append(name)
            raise self.error
        return call


EVERY_CALL: list[tuple[str, Callable[[ElasticStore], Any]]] = [
    ("setup", lambda s: s.setup()),
    ("ping", lambda s: s.ping()),
    ("content_hashes", lambda s: s.content_hashes(["a"])),
    ("write_articles", lambda s: list(s.write_articles([ARTICLE]))),
    ("delete_article", lambda s: s.delete_article("a")),
    ("rebuild", lambda s: s.rebuild().__enter__()),
    ("get_article", lambda s: s.get_article("a")),
    ("search", lambda s: s.search(SearchRequest())),
    ("search sentences", lambda s: s.search(SearchRequest(level="sentence"))),
    ("entities", lambda s: s.entities("al")),
    ("sources", lambda s: s.sources()),
    ("count_articles", lambda s: s.count_articles()),
    ("lexical_candidates", lambda s: s.lexical_candidates(query((Term("x"),)), Filters(), 10)),
    ("vector_candidates", lambda s: s.vector_candidates(np.stack([unit(0)]), Filters(), 10)),
    ("get_sentences", lambda s: s.get_sentences([SentenceRef("a", 0)])),
]


def store_with(client: Any) -> ElasticStore:
    return ElasticStore("http://es.test:9200", client=client)


@pytest.mark.parametrize("make_error", [unreachable, timed_out, server_error, overloaded, no_index],
                         ids=["connection", "timeout", "503", "429", "no-index"])
@pytest.mark.parametrize(("name", "call"), EVERY_CALL, ids=[n for n, _ in EVERY_CALL])
def test_outages_become_store_unavailable(name: str, call: Callable[[ElasticStore], Any],
                                          make_error: Callable[[], Exception]) -> None:
    error = make_error()
    client = RaisingClient(error)
    with pytest.raises(StoreUnavailable) as raised:
        call(store_with(client))
    assert raised.value.__cause__ is error
    assert client.calls, name


@pytest.mark.parametrize(("name", "call"), EVERY_CALL, ids=[n for n, _ in EVERY_CALL])
def test_rejected_requests_become_store_errors_not_outages(name: str, call: Callable[[ElasticStore], Any]) -> None:
    error = bad_request()
    with pytest.raises(StoreError) as raised:
        call(store_with(RaisingClient(error)))
    assert not isinstance(raised.value, StoreUnavailable | ArticleNotFound), name
    assert raised.value.__cause__ is error


@pytest.mark.parametrize("call", [lambda s: s.get_article("gone"), lambda s: s.delete_article("gone")],
                         ids=["get_article", "delete_article"])
def test_missing_article_is_article_not_found(call: Callable[[ElasticStore], Any]) -> None:
    error = doc_missing()
    with pytest.raises(ArticleNotFound) as raised:
        call(store_with(RaisingClient(error)))
    assert raised.value.args == ("gone",) and raised.value.__cause__ is error


def test_translate_api_error_table() -> None:
    assert isinstance(elastic.translate_api_error(server_error()), StoreUnavailable)
    assert isinstance(elastic.translate_api_error(overloaded()), StoreUnavailable)
    assert isinstance(elastic.translate_api_error(no_index(), "a"), StoreUnavailable)
    assert isinstance(elastic.translate_api_error(doc_missing(), "a"), ArticleNotFound)
    assert type(elastic.translate_api_error(doc_missing())) is StoreError
    assert type(elastic.translate_api_error(bad_request(), "a")) is StoreError


# ==================================================================================
# 3. whole operations through the real client, with a fake node at the HTTP edge
# ==================================================================================


@dataclasses.dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    timeout: Any


Reply = Any  # a JSON body, (status, body), an exception, or a callable(Request) -> one of these


class FakeElasticsearch:
    """Scripted HTTP answers keyed by (method, path); records every request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.routes: dict[tuple[str, str], list[Reply]] = {}

    def on(self, method: str, path: str, *replies: Reply) -> None:
        """Answer with ``replies`` in turn (the last one repeats)."""
        self.routes[(method, path)] = list(replies)

    def answer(self, method: str, target: str, body: bytes | None, timeout: Any) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = unquote(parts.path)
        decoded: Any = None
        if body:
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            decoded = lines if path.endswith(("/_bulk", "/_msearch")) else lines[0]
        request = Request(method, path, dict(parse_qsl(parts.query)), decoded, timeout)
        self.requests.append(request)
        replies = self.routes.get((method, path))
        if not replies:
            raise AssertionError(f"unexpected request {method} {target}")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if callable(reply):
            reply = reply(request)
        if isinstance(reply, Exception):
            raise reply
        return reply if isinstance(reply, tuple) else (200, reply)

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


class FakeNode(BaseNode):
    server: FakeElasticsearch

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: Any = None, request_timeout: Any = None) -> NodeApiResponse:
        status, payload = self.server.answer(method, target, body, request_timeout)
        meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.001, node=self.config,
                               headers=HttpHeaders({"content-type": "application/json",
                                                    "x-elastic-product": "Elasticsearch"}))
        return NodeApiResponse(meta, b"" if method == "HEAD" else json.dumps(payload).encode())


def bind_fake(monkeypatch: pytest.MonkeyPatch, fake: FakeElasticsearch,
              node: type[FakeNode] = FakeNode, **attributes: Any) -> type[FakeNode]:
    """Make every ElasticStore created in the test talk to ``fake`` through the
    real client, over ``node``; returns the bound node class."""
    node_class = type(f"Bound{node.__name__}", (node,), {"server": fake, **attributes})
    monkeypatch.setattr(elastic_adapter, "Elasticsearch", functools.partial(Elasticsearch, node_class=node_class))
    return node_class


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeElasticsearch:
    """Every ElasticStore created in the test talks to this fake through the real client."""
    fake = FakeElasticsearch()
    bind_fake(monkeypatch, fake)
    return fake


@pytest.fixture
def store(server: FakeElasticsearch) -> ElasticStore:
    return ElasticStore("http://es.test:9200")


def bulk_ok(request: Request) -> dict:
    actions = [line for line in request.body if set(line) & {"index", "create", "delete", "update"}]
    items = []
    for n, action in enumerate(actions):
        (op, meta), = action.items()
        items.append({op: {"_index": meta["_index"], "_id": meta["_id"], "_version": 1, "result": "created",
                           "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": n,
                           "_primary_term": 1, "status": 201}})
    return {"took": 7, "errors": False, "items": items}


def bulk_with_failure(request: Request) -> dict:
    resp = bulk_ok(request)
    item = resp["items"][1]["index"]
    item.update(status=400, error=MAPPER_ERROR)
    for key in ("_version", "result", "_shards", "_seq_no", "_primary_term"):
        item.pop(key)
    resp["errors"] = True
    return resp


DBQ_OK = {"took": 3, "timed_out": False, "total": 0, "deleted": 0, "batches": 0, "version_conflicts": 0,
          "noops": 0, "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0, "requests_per_second": -1.0,
          "throttled_until_millis": 0, "failures": []}
REFRESHED = {"_shards": {"total": 4, "successful": 2, "failed": 0}}
FORCE_MERGED = {"_shards": {"total": 2, "successful": 2, "failed": 0}}
ACKED = {"acknowledged": True}


def test_constructing_never_connects_and_the_client_is_created_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict] = []
    clients: list[RaisingClient] = []

    def factory(**options: Any) -> RaisingClient:
        made.append(options)
        clients.append(RaisingClient(unreachable()))
        return clients[-1]

    monkeypatch.setattr(elastic_adapter, "Elasticsearch", factory)
    store = ElasticStore("http://es.test:9200", "cl-test")
    assert made == [] and isinstance(store, Store)
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            store.count_articles()
    assert made == [{"hosts": "http://es.test:9200", "request_timeout": 5.0, "max_retries": 1,
                     "retry_on_timeout": False}]
    store.close()
    store.close()
    assert clients[0].calls.count("close") == 1


@pytest.mark.parametrize("prefix", ["", "Upper", "-x", "a b", "a/b", "a*", "a:b"])
def test_bad_index_prefix_is_refused_up_front(prefix: str) -> None:
    with pytest.raises(ValueError):
        ElasticStore("http://es.test:9200", prefix)


def test_write_new_article_sentences_first_then_commit_then_cleanup_then_refresh(
        server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))
    server.on("PUT", "/_bulk", bulk_ok)
    server.on("POST", "/claimlookup-articles,claimlookup-sentences/_refresh", REFRESHED)

    outcomes = store.write_articles([ARTICLE])
    assert server.requests == []  # lazy
    assert list(outcomes) == [WriteOutcome("reuters:1", WriteStatus.NEW, 3, 3)]

    # a new article has no old generation to delete: no third bulk, no delete-by-query
    assert server.calls() == [("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk"), ("PUT", "/_bulk"),
                              ("POST", "/claimlookup-articles,claimlookup-sentences/_refresh")]
    mget, sentences, article, _ = server.requests
    assert mget.body == {"ids": ["reuters:1"]}
    assert mget.params["_source_includes"] == "article_id,content_hash,positions"
    assert mget.timeout == 5.0
    assert sentences.params == article.params == {"require_alias": "true"}
    assert sentences.body[0] == {"index": {"_index": "claimlookup-sentences", "_id": f"reuters:1:{GEN}:0"}}
    assert sentences.body[1]["vector"] == pytest.approx(unit(0).tolist())
    assert {k: v for k, v in sentences.body[3].items() if k != "vector"} == {
        k: v for k, v in sentence_source(1).items() if k != "vector"}
    assert len(sentences.body) == 6 and sentences.timeout == 60.0
    assert article.body == [{"index": {"_index": "claimlookup-articles", "_id": "reuters:1"}}, article_source()]


def test_unchanged_articles_are_not_rewritten(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response(
        "claimlookup-articles", [("reuters:1", {"article_id": "reuters:1", "content_hash": HASH})]))
    assert list(store.write_articles([ARTICLE])) == [WriteOutcome("reuters:1", WriteStatus.UNCHANGED)]
    assert server.calls() == [("POST", "/claimlookup-articles/_mget")]


def bulk_deleting(request: Request) -> dict:
    """Like bulk_ok; a delete of an id ending in ':9' finds nothing (404, result not_found)."""
    resp = bulk_ok(request)
    for item in resp["items"]:
        if "delete" in item:
            gone = item["delete"]["_id"].endswith(":9")
            item["delete"].update(result="not_found" if gone else "deleted", status=404 if gone else 200)
    return resp


def test_updated_article_is_reported_and_its_old_generation_deleted_by_id(server: FakeElasticsearch,
                                                                         store: ElasticStore) -> None:
    changed = make_article(title="Jets strike market, 20 dead")
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [
        ("reuters:1", {"article_id": "reuters:1", "content_hash": HASH, "positions": [0, 1, 9]})]))
    server.on("PUT", "/_bulk", bulk_deleting)
    server.on("POST", "/claimlookup-articles,claimlookup-sentences/_refresh", REFRESHED)
    assert list(store.write_articles([changed])) == [WriteOutcome("reuters:1", WriteStatus.UPDATED, 3, 3)]
    new_gen = changed.content_hash[:16]
    assert server.calls() == [("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk"), ("PUT", "/_bulk"),
                              ("PUT", "/_bulk"), ("POST", "/claimlookup-articles,claimlookup-sentences/_refresh")]
    assert server.requests[1].body[0]["index"]["_id"] == f"reuters:1:{new_gen}:0"
    # after the commit marker: the old generation's sentences, by id (one already gone: fine)
    assert server.requests[3].body == [{"delete": {"_index": "claimlookup-sentences", "_id": f"reuters:1:{GEN}:{p}"}}
                                       for p in (0, 1, 9)]
    assert server.requests[3].params == {"require_alias": "true"}


def test_a_failed_delete_of_the_old_generation_is_an_error(server: FakeElasticsearch, store: ElasticStore) -> None:
    changed = make_article(title="Jets strike market, 20 dead")
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [
        ("reuters:1", {"article_id": "reuters:1", "content_hash": HASH, "positions": [0]})]))

    def refused_delete(request: Request) -> dict:
        resp = bulk_ok(request)
        if "delete" in resp["items"][0]:
            resp["errors"] = True
            resp["items"][0]["delete"] = {"_index": "claimlookup-sentences", "_id": f"reuters:1:{GEN}:0",
                                          "status": 503, "error": {"type": "unavailable_shards_exception",
                                                                   "reason": "primary shard is not active"}}
        return resp

    server.on("PUT", "/_bulk", refused_delete)
    with pytest.raises(StoreUnavailable, match="unavailable_shards_exception"):
        list(store.write_articles([changed]))


def test_writes_need_the_aliases_to_exist(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))

    def no_alias(request: Request) -> dict:
        resp = bulk_ok(request)
        resp["errors"] = True
        for item in resp["items"]:
            item["index"] = {"_index": "claimlookup-sentences", "_id": item["index"]["_id"], "status": 404,
                             "error": {"type": "index_not_found_exception", "reason": "[require_alias] request "
                                       "flag is [true] and [claimlookup-sentences] is not an alias"}}
        return resp

    server.on("PUT", "/_bulk", no_alias)
    with pytest.raises(elastic.StoreNotSetUp, match="not an alias"):
        list(store.write_articles([ARTICLE]))


def test_rejected_sentence_means_no_commit(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))
    server.on("PUT", "/_bulk", bulk_with_failure, bulk_deleting)
    with pytest.raises(StoreError, match="document_parsing_exception") as raised:
        list(store.write_articles([ARTICLE]))
    assert not isinstance(raised.value, StoreUnavailable)
    # no commit; the sentences that were accepted are deleted again by id
    assert server.calls() == [("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk"),
                              ("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk")]
    assert server.requests[3].body == [{"delete": {"_index": "claimlookup-sentences", "_id": f"reuters:1:{GEN}:{p}"}}
                                       for p in range(3)]


def test_server_error_during_bulk_is_unavailable_and_nothing_is_committed(
        server: FakeElasticsearch, store: ElasticStore, caplog: pytest.LogCaptureFixture) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))
    server.on("PUT", "/_bulk", (503, es_error("unavailable_shards_exception", "primary shard is not active", 503)))
    with pytest.raises(StoreUnavailable) as raised:
        list(store.write_articles([ARTICLE]))
    assert isinstance(raised.value.__cause__, ApiError)
    # the transport retries a 503 once (max_retries=1); the articles bulk is never sent
    bulks = [r for r in server.requests if r.path == "/_bulk"]
    assert len(bulks) == 4 and all(r.body == bulks[0].body for r in bulks[:2])
    assert all(line.get("index", {}).get("_index") != "claimlookup-articles" for line in bulks[0].body)
    # the cleanup's deletes failed too: logged, and the write's own error is the one raised
    assert all("delete" in line for line in bulks[2].body)
    assert "primary shard is not active" in str(raised.value)
    assert "left for the leftover sweep" in caplog.text


def test_a_failed_batch_deletes_exactly_its_uncommitted_sentences_by_id(server: FakeElasticsearch,
                                                                         store: ElasticStore) -> None:
    a, b, c = (make_article(id=i) for i in "abc")
    committed_after = {"a": a.content_hash, "c": "0" * 64}  # b was rejected; so was c, which another writer
    reads = iter([{}, committed_after])                      # committed meanwhile with other content

    def mget(request: Request) -> dict:
        committed = next(reads)
        return mget_response("claimlookup-articles", [
            (i, {"article_id": i, "content_hash": committed[i], "positions": [0, 1, 2]} if i in committed else None)
            for i in request.body["ids"]])

    def articles_rejected(request: Request) -> dict:
        resp = bulk_ok(request)
        for item in resp["items"][1:]:
            item["index"] = {"_index": "claimlookup-articles", "_id": item["index"]["_id"], "status": 400,
                             "error": MAPPER_ERROR}
        return resp | {"errors": True}

    server.on("POST", "/claimlookup-articles/_mget", mget)
    server.on("PUT", "/_bulk", bulk_ok, articles_rejected, bulk_deleting)
    with pytest.raises(StoreError, match="2 document.*document_parsing_exception"):
        list(store.write_articles([a, b, c]))
    assert server.calls() == [("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk"), ("PUT", "/_bulk"),
                              ("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk")]
    assert server.requests[3].body == {"ids": ["a", "b", "c"]}  # re-read after the failure
    # exactly the new generation of b and c; a's committed sentences and c's other generation untouched
    assert server.requests[4].body == [{"delete": {"_index": "claimlookup-sentences", "_id": f"{i}:{GEN}:{p}"}}
                                       for i in "bc" for p in range(3)]
    assert server.requests[4].params == {"require_alias": "true"}


def test_a_commit_lost_in_the_driver_is_left_for_the_sweep(server: FakeElasticsearch, store: ElasticStore) -> None:
    """A commit that timed out may still be applied by the cluster: deleting its
    sentences then would leave a committed article without them."""
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))
    server.on("PUT", "/_bulk", bulk_ok, timed_out())
    with pytest.raises(StoreUnavailable, match="unreachable"):
        list(store.write_articles([ARTICLE]))
    assert server.calls() == [("POST", "/claimlookup-articles/_mget"), ("PUT", "/_bulk"), ("PUT", "/_bulk")]


def test_a_failed_delete_after_the_commit_needs_no_cleanup(server: FakeElasticsearch, store: ElasticStore) -> None:
    changed = make_article(title="Jets strike market, 20 dead")
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [
        ("reuters:1", {"article_id": "reuters:1", "content_hash": HASH, "positions": [0]})]))
    server.on("PUT", "/_bulk", bulk_ok, bulk_ok, (400, es_error("illegal_argument_exception", "bad", 400)))
    with pytest.raises(StoreError, match="bad"):
        list(store.write_articles([changed]))
    assert server.calls() == [("POST", "/claimlookup-articles/_mget")] + [("PUT", "/_bulk")] * 3


def test_outcomes_follow_input_order_across_batches(server: FakeElasticsearch, store: ElasticStore,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic_adapter, "WRITE_BATCH", 2)
    a, b, c = (make_article(id=i) for i in "abc")
    stored = {"b": b.content_hash}

    def mget(request: Request) -> dict:
        return mget_response("claimlookup-articles", [
            (i, {"article_id": i, "content_hash": stored[i]} if i in stored else None) for i in request.body["ids"]])

    server.on("POST", "/claimlookup-articles/_mget", mget)
    server.on("PUT", "/_bulk", bulk_ok)
    server.on("POST", "/claimlookup-articles,claimlookup-sentences/_refresh", REFRESHED)
    outcomes = list(store.write_articles(iter([a, b, c])))
    assert [(o.article_id, o.status) for o in outcomes] == [
        ("a", WriteStatus.NEW), ("b", WriteStatus.UNCHANGED), ("c", WriteStatus.NEW)]
    assert [r.body["ids"] for r in server.requests if r.path.endswith("_mget")] == [["a", "b"], ["c"]]


def test_get_article_reads_exactly_the_committed_generation(server: FakeElasticsearch, store: ElasticStore) -> None:
    doc = {"_index": "claimlookup-articles-v1-1", "_id": "reuters:1", "_version": 2, "_seq_no": 5,
           "_primary_term": 1, "found": True, "_source": article_source()}
    server.on("GET", "/claimlookup-articles/_doc/reuters:1", doc)

    def sentences(request: Request) -> dict:
        by_id = {elastic.sentence_id("reuters:1", HASH, p): {k: v for k, v in sentence_source(p).items()
                                                              if k != "vector"} for p in range(3)}
        return mget_response("claimlookup-sentences-v1-1", [(i, by_id.get(i)) for i in request.body["ids"]])

    server.on("POST", "/claimlookup-sentences/_mget", sentences)
    article = store.get_article("reuters:1")
    assert article == make_article(sentences=[dataclasses.replace(s, vector=None) for s in ARTICLE.sentences])
    assert server.requests[1].body == {"ids": [f"reuters:1:{GEN}:{p}" for p in range(3)]}
    assert server.requests[1].params == {"_source_excludes": "vector"}


def test_get_article_with_missing_committed_sentences_is_corrupt(server: FakeElasticsearch,
                                                                 store: ElasticStore) -> None:
    server.on("GET", "/claimlookup-articles/_doc/reuters:1",
              {"_index": "i", "_id": "reuters:1", "found": True, "_source": article_source()})
    server.on("POST", "/claimlookup-sentences/_mget",
              mget_response("s", [(f"reuters:1:{GEN}:0", sentence_source(0)), (f"reuters:1:{GEN}:1", None),
                                  (f"reuters:1:{GEN}:2", None)]))
    with pytest.raises(StoreCorrupt, match="2 committed sentence"):
        store.get_article("reuters:1")


def test_get_article_rereads_when_an_update_moved_the_generation(server: FakeElasticsearch,
                                                                  store: ElasticStore) -> None:
    updated = make_article(title="Jets strike market, 20 dead")
    server.on("GET", "/claimlookup-articles/_doc/reuters:1",
              {"_index": "i", "_id": "reuters:1", "found": True, "_source": article_source()},
              {"_index": "i", "_id": "reuters:1", "found": True, "_source": article_source(updated)})
    by_id = {elastic.sentence_id("reuters:1", updated.content_hash, p): sentence_source(p, updated) for p in range(3)}
    server.on("POST", "/claimlookup-sentences/_mget", lambda r: mget_response(
        "claimlookup-sentences", [(i, by_id.get(i)) for i in r.body["ids"]]))
    assert store.get_article("reuters:1").title == "Jets strike market, 20 dead"
    assert [c[0] for c in server.calls()] == ["GET", "POST", "GET", "POST"]


def test_get_missing_article(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("GET", "/claimlookup-articles/_doc/nope",
              (404, {"_index": "claimlookup-articles-v1-1", "_id": "nope", "found": False}))
    with pytest.raises(ArticleNotFound):
        store.get_article("nope")


def test_connection_refused_by_the_transport_is_unavailable(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_count", lambda _: unreachable())
    with pytest.raises(StoreUnavailable, match="unreachable") as raised:
        store.count_articles()
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert len(server.requests) == 2  # one retry on a refused connection, none on timeouts


def test_timeouts_are_not_retried(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_count", lambda _: timed_out())
    with pytest.raises(StoreUnavailable):
        store.count_articles()
    assert len(server.requests) == 1


def test_count_and_ping(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_count", {"count": 804, "_shards": SHARDS})
    assert store.count_articles() == 804
    health = {"cluster_name": "docker-cluster", "status": "yellow", "timed_out": False, "number_of_nodes": 1,
              "number_of_data_nodes": 1, "active_primary_shards": 2, "active_shards": 2,
              "relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 2,
              "delayed_unassigned_shards": 0, "number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0,
              "task_max_waiting_in_queue_millis": 0, "active_shards_percent_as_number": 50.0}
    server.on("GET", "/_cluster/health", health, {**health, "status": "red"})
    store.ping()
    with pytest.raises(StoreUnavailable, match="red"):
        store.ping()


def test_delete_article(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("DELETE", "/claimlookup-articles/_doc/reuters:1",
              {"_index": "claimlookup-articles-v1-1", "_id": "reuters:1", "_version": 3, "result": "deleted",
               "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 9, "_primary_term": 1},
              (404, {"_index": "claimlookup-articles-v1-1", "_id": "reuters:1", "_version": 4,
                     "result": "not_found", "_shards": {"total": 2, "successful": 1, "failed": 0},
                     "_seq_no": 10, "_primary_term": 1}))
    server.on("POST", "/claimlookup-sentences/_delete_by_query", {**DBQ_OK, "total": 3, "deleted": 3})
    server.on("POST", "/claimlookup-articles,claimlookup-sentences/_refresh", REFRESHED)
    store.delete_article("reuters:1")
    assert server.calls()[1:] == [("POST", "/claimlookup-sentences/_delete_by_query"),
                                  ("POST", "/claimlookup-articles,claimlookup-sentences/_refresh")]
    assert server.requests[1].body == {"query": {"term": {"article_id": "reuters:1"}}}
    with pytest.raises(ArticleNotFound):
        store.delete_article("reuters:1")


def info(number: str, flavor: str = "default") -> dict:
    """``GET /`` as Elasticsearch answers it."""
    return {"name": "es01", "cluster_name": "docker-cluster", "cluster_uuid": "u",
            "version": {"number": number, "build_flavor": flavor, "build_type": "docker", "build_hash": "h",
                        "build_date": "2025-10-01T00:00:00Z", "build_snapshot": False,
                        "lucene_version": "10.3.0", "minimum_wire_compatibility_version": "8.19.0",
                        "minimum_index_compatibility_version": "8.0.0"},
            "tagline": "You Know, for Search"}


def created_body(kind: str, alias: str | None = None, *, loading: bool = False, keep_vectors: bool = False,
                 config: elastic.ElasticConfig | None = None) -> dict:
    config = config or elastic.ElasticConfig()
    return elastic.index_body(elastic.load_mapping(), kind, alias=alias, vector_index_type=config.vector_index_type,
                              index=elastic.index_settings(config, loading=loading, keep_vectors_setting=keep_vectors))


def test_setup_creates_missing_indices_behind_their_aliases(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("GET", "/", info("8.19.10"))
    server.on("HEAD", "/claimlookup-articles", (404, None))
    server.on("HEAD", "/claimlookup-sentences", (200, None))
    server.on("PUT", "/claimlookup-sentences/_mapping", ACKED)
    server.on("PUT", "/claimlookup-articles-v1-initial",
              {"acknowledged": True, "shards_acknowledged": True, "index": "claimlookup-articles-v1-initial"},
              (400, es_error("resource_already_exists_exception",
                             "index [claimlookup-articles-v1-initial/abc] already exists", 400)))
    store.setup()
    create = server.requests[2]
    assert create.path == "/claimlookup-articles-v1-initial"
    assert create.body == created_body("articles", alias="claimlookup-articles")
    assert create.body["settings"]["index"] == {"max_result_window": 10000, "number_of_shards": 1,
                                                "number_of_replicas": 1}
    # the existing sentences index gets the fields added since (quantities' scope) in place
    assert [c for c in server.calls() if c[0] == "PUT"] == [("PUT", "/claimlookup-articles-v1-initial"),
                                                            ("PUT", "/claimlookup-sentences/_mapping")]
    assert server.requests[-1].body == {"properties": {"quantities": {"properties": {"scope": {"type": "keyword"}}}}}
    store.setup()  # a concurrent setup that lost the race is fine


@pytest.mark.parametrize(("version", "flavor", "keeps"), [
    ("8.19.10", "default", False), ("9.0.8", "default", False), ("9.1.5", "default", False),
    ("9.2.0", "default", True), ("9.3.1", "default", True), ("10.0.0", "default", True),
    ("8.11.0", "serverless", True)])
def test_on_92_and_later_new_indices_keep_vectors_in_source(server: FakeElasticsearch, version: str, flavor: str,
                                                            keeps: bool) -> None:
    server.on("GET", "/", info(version, flavor))
    server.on("HEAD", "/claimlookup-articles", (200, None))
    server.on("PUT", "/claimlookup-articles/_mapping", ACKED)
    server.on("HEAD", "/claimlookup-sentences", (404, None))
    server.on("PUT", "/claimlookup-sentences-v1-initial", ACKED)
    config = elastic.ElasticConfig(shards=3, replicas=0, vector_index_type="int8_hnsw")
    ElasticStore("http://es.test:9200", config=config).setup()
    body = server.requests[-1].body
    index = body["settings"]["index"]
    assert ("mapping.exclude_source_vectors" in index) is keeps
    if keeps:
        assert index["mapping.exclude_source_vectors"] is False
    assert index["number_of_shards"] == 3 and index["number_of_replicas"] == 0
    assert body["mappings"]["properties"]["vector"]["index_options"] == {"type": "int8_hnsw", "m": 16,
                                                                         "ef_construction": 100}
    assert body == created_body("sentences", alias="claimlookup-sentences", keep_vectors=keeps, config=config)


def test_without_monitor_the_vector_setting_is_tried_and_dropped_if_unknown(server: FakeElasticsearch,
                                                                            store: ElasticStore) -> None:
    server.on("GET", "/", (403, es_error("security_exception", "action [cluster:monitor/main] is unauthorized "
                                         "for API key id [k] of user [u]", 403)))
    server.on("HEAD", "/claimlookup-articles", (200, None))
    server.on("PUT", "/claimlookup-articles/_mapping", ACKED)
    server.on("HEAD", "/claimlookup-sentences", (404, None))
    server.on("PUT", "/claimlookup-sentences-v1-initial",
              (400, es_error("illegal_argument_exception",
                             "unknown setting [index.mapping.exclude_source_vectors] please check that any required "
                             "plugins are installed, or check the breaking changes documentation for removed "
                             "settings", 400)), ACKED)
    store.setup()
    first, second = [r for r in server.requests if r.method == "PUT" and not r.path.endswith("/_mapping")]
    assert first.body == created_body("sentences", alias="claimlookup-sentences", keep_vectors=True)
    assert second.body == created_body("sentences", alias="claimlookup-sentences", keep_vectors=False)


def test_parse_version() -> None:
    assert elastic.parse_version(info("9.2.1")) == (9, 2)
    assert elastic.parse_version(info("8.11.0", "serverless")) == (99, 0)
    assert elastic.parse_version({"tagline": "You Know, for Search"}) is None
    assert elastic.excludes_source_vectors(None) is None
    assert elastic.excludes_source_vectors((9, 1)) is False and elastic.excludes_source_vectors((9, 2)) is True


def alias_reply(kind: str, *indices: str) -> dict:
    return {name: {"aliases": {f"claimlookup-{kind}": {}}} for name in indices}


def test_rebuild_swaps_both_aliases_in_one_call_and_drops_old_indices(
        server: FakeElasticsearch, store: ElasticStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic_adapter, "timestamp", lambda: "20261122010203000000")
    new = IndexNames("claimlookup-articles-v1-20261122010203000000", "claimlookup-sentences-v1-20261122010203000000")
    for name in new.all():
        server.on("PUT", f"/{name}", {"acknowledged": True, "shards_acknowledged": True, "index": name})
    server.on("GET", "/", info("9.2.0"))
    server.on("POST", f"/{new.articles},{new.sentences}/_refresh", REFRESHED)
    server.on("POST", f"/{new.articles},{new.sentences}/_forcemerge", FORCE_MERGED)
    server.on("PUT", f"/{new.articles},{new.sentences}/_settings", ACKED)
    server.on("GET", "/_alias/claimlookup-articles", alias_reply("articles", "claimlookup-articles-v1-initial"))
    server.on("GET", "/_alias/claimlookup-sentences", alias_reply("sentences", "claimlookup-sentences-v1-initial"))
    server.on("POST", "/_aliases", ACKED)
    server.on("POST", f"/{new.articles}/_count", {"count": 0, "_shards": SHARDS})
    server.on("POST", "/claimlookup-articles/_search", NO_POSTED)  # nothing written through the API
    server.on("DELETE", "/_search/scroll", {"succeeded": True, "num_freed": 1})
    old_indices = "/claimlookup-articles-v1-initial,claimlookup-sentences-v1-initial"
    server.on("PUT", f"{old_indices}/_settings", ACKED)

    with store.rebuild() as staging:
        assert isinstance(staging, ElasticStore) and staging.indices == new
        assert staging.count_articles() == 0
        assert ("POST", "/_aliases") not in server.calls()

    both = f"/{new.articles},{new.sentences}"
    calls = [c for c in server.calls() if c[0] != "GET" and c[1] not in ("/claimlookup-articles/_search",
                                                                         "/_search/scroll")]
    assert calls[-5:] == [("POST", f"{both}/_refresh"), ("POST", f"{both}/_forcemerge"),
                          ("PUT", f"{both}/_settings"), ("PUT", f"{old_indices}/_settings"),
                          ("POST", "/_aliases")]
    # the live indices refuse writes from before the carry of posted articles until they are dropped
    blocked = [r for r in server.requests if r.path == f"{old_indices}/_settings"]
    assert [r.body for r in blocked] == [{"index.blocks.write": True}]
    assert server.requests[-1].body == {"actions": elastic.alias_swap_actions(
        new, ALIASES, ["claimlookup-articles-v1-initial", "claimlookup-sentences-v1-initial"])}
    # loaded with refresh off and no replicas, merged to one segment, then made live again
    created = [r for r in server.requests if r.method == "PUT" and r.path == f"/{new.articles}"][0]
    assert created.body == created_body("articles", loading=True, keep_vectors=True)
    assert created.body["settings"]["index"]["refresh_interval"] == "-1"
    assert created.body["settings"]["index"]["number_of_replicas"] == 0
    merge = [r for r in server.requests if r.path.endswith("/_forcemerge")][0]
    assert merge.params == {"max_num_segments": "1"} and merge.timeout == elastic.MERGE_TIMEOUT
    restored = [r for r in server.requests if r.path.endswith("/_settings")][0]
    assert restored.body == {"index": {"number_of_replicas": 1, "refresh_interval": "1s"}}


NO_POSTED = {"_scroll_id": "s1", "took": 1, "timed_out": False, "_shards": SHARDS,
             "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []}}


def test_a_rebuild_carries_the_articles_written_through_the_api(
        server: FakeElasticsearch, store: ElasticStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 9, case 6: a rebuild dropped every article POSTed to the API. Posted
    articles the input did not rewrite are copied with their committed
    sentences into the new indices before the swap; one the input rewrote is not."""
    monkeypatch.setattr(elastic_adapter, "timestamp", lambda: "1")
    new = IndexNames("claimlookup-articles-v1-1", "claimlookup-sentences-v1-1")
    server.on("GET", "/", info("8.19.10"))
    for name in new.all():
        server.on("PUT", f"/{name}", {"acknowledged": True, "shards_acknowledged": True, "index": name})
    posted = {"api:1": dict(article_source(), article_id="api:1", posted=True),
              "reuters:1": dict(article_source(), posted=True)}
    server.on("POST", "/claimlookup-articles/_search", {
        "_scroll_id": "s1", "took": 1, "timed_out": False, "_shards": SHARDS,
        "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": 1.0,
                 "hits": [{"_index": "claimlookup-articles-v1-initial", "_id": i, "_score": 1.0, "_source": src}
                          for i, src in posted.items()]}})
    server.on("POST", "/_search/scroll", NO_POSTED)
    server.on("DELETE", "/_search/scroll", {"succeeded": True, "num_freed": 1})
    # the input rewrote reuters:1 (found in the new index), not api:1
    server.on("POST", f"/{new.articles}/_mget", mget_response(new.articles, [("api:1", None), ("reuters:1", {})]))
    api_sentences = [(elastic.sentence_id("api:1", HASH, p), {"ref": f"api:1:{p}"}) for p in (0, 1, 2)]
    server.on("POST", "/claimlookup-sentences/_mget", mget_response("claimlookup-sentences-v1-initial",
                                                                    api_sentences))
    server.on("PUT", "/_bulk", bulk_ok)
    server.on("POST", f"/{new.articles},{new.sentences}/_refresh", REFRESHED)
    server.on("POST", f"/{new.articles},{new.sentences}/_forcemerge", FORCE_MERGED)
    server.on("PUT", f"/{new.articles},{new.sentences}/_settings", ACKED)
    server.on("GET", "/_alias/claimlookup-articles", alias_reply("articles", "claimlookup-articles-v1-initial"))
    server.on("GET", "/_alias/claimlookup-sentences", alias_reply("sentences", "claimlookup-sentences-v1-initial"))
    server.on("PUT", "/claimlookup-articles-v1-initial,claimlookup-sentences-v1-initial/_settings", ACKED)
    server.on("POST", "/_aliases", ACKED)
    with store.rebuild():
        pass
    searched = [r for r in server.requests if r.path == "/claimlookup-articles/_search"][0]
    assert searched.body["query"] == {"term": {"posted": True}}
    wanted = [r for r in server.requests if r.path == "/claimlookup-sentences/_mget"][0]
    assert wanted.body == {"ids": [sid for sid, _ in api_sentences]}
    sentences_bulk, articles_bulk = [r for r in server.requests if r.path == "/_bulk"]
    assert [line["index"]["_id"] for line in sentences_bulk.body if "index" in line] == [
        sid for sid, _ in api_sentences]
    assert all(line["index"]["_index"] == new.sentences for line in sentences_bulk.body if "index" in line)
    assert [(line["index"]["_index"], line["index"]["_id"]) for line in articles_bulk.body if "index" in line] == [
        (new.articles, "api:1")]
    assert articles_bulk.body[1]["posted"] is True
    order = [c for c in server.calls() if c[1] in ("/_bulk", "/_aliases") or c[1].endswith("_refresh")]
    assert order == [("POST", f"/{new.articles},{new.sentences}/_refresh"), ("PUT", "/_bulk"), ("PUT", "/_bulk"),
                     ("POST", f"/{new.articles},{new.sentences}/_refresh"), ("POST", "/_aliases")]


def test_a_write_refused_by_the_rebuilds_write_block_is_store_rebuilding(server: FakeElasticsearch,
                                                                          store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))

    def blocked(request: Request) -> dict:
        resp = bulk_ok(request)
        for item in resp["items"]:
            op = item["index"]
            op.update(status=403, error={"type": "cluster_block_exception",
                                         "reason": "index [claimlookup-sentences-v1-initial] blocked by: "
                                                   "[FORBIDDEN/8/index write (api)];"})
            for key in ("_version", "result", "_shards", "_seq_no", "_primary_term"):
                op.pop(key)
        resp["errors"] = True
        return resp

    server.on("PUT", "/_bulk", blocked)
    with pytest.raises(StoreRebuilding):
        list(store.write_articles([ARTICLE], posted=True))


def test_posted_articles_are_marked_on_their_document(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", None)]))
    server.on("PUT", "/_bulk", bulk_ok)
    server.on("POST", "/claimlookup-articles,claimlookup-sentences/_refresh", REFRESHED)
    list(store.write_articles([ARTICLE], posted=True))
    article_bulk = [r for r in server.requests if r.path == "/_bulk"][1]
    assert article_bulk.body[1]["posted"] is True


def test_a_rebuild_loads_without_refreshing_per_batch_or_requiring_aliases(
        server: FakeElasticsearch, store: ElasticStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic_adapter, "timestamp", lambda: "1")
    new = IndexNames("claimlookup-articles-v1-1", "claimlookup-sentences-v1-1")
    server.on("GET", "/", info("8.19.10"))
    for name in new.all():
        server.on("PUT", f"/{name}", {"acknowledged": True, "shards_acknowledged": True, "index": name})
    server.on("POST", f"/{new.articles}/_mget", mget_response(new.articles, [("reuters:1", None)]))
    server.on("PUT", "/_bulk", bulk_ok)
    server.on("POST", f"/{new.articles},{new.sentences}/_refresh", REFRESHED)
    server.on("POST", f"/{new.articles},{new.sentences}/_forcemerge", FORCE_MERGED)
    server.on("PUT", f"/{new.articles},{new.sentences}/_settings", ACKED)
    server.on("GET", "/_alias/claimlookup-articles", alias_reply("articles"))
    server.on("GET", "/_alias/claimlookup-sentences", alias_reply("sentences"))
    server.on("POST", "/_aliases", ACKED)
    with store.rebuild() as staging:
        list(staging.write_articles([ARTICLE]))
        assert [c for c in server.calls() if c[1].endswith("/_refresh")] == []
    bulks = [r for r in server.requests if r.path == "/_bulk"]
    assert len(bulks) == 2 and all(r.params == {"require_alias": "false"} for r in bulks)
    assert [c for c in server.calls() if c[1].endswith("/_refresh")] == [
        ("POST", f"/{new.articles},{new.sentences}/_refresh")]


def test_failed_rebuild_deletes_the_new_indices_and_keeps_the_old(
        server: FakeElasticsearch, store: ElasticStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic_adapter, "timestamp", lambda: "1")
    server.on("GET", "/", info("8.19.10"))
    for name in ("claimlookup-articles-v1-1", "claimlookup-sentences-v1-1"):
        server.on("PUT", f"/{name}", {"acknowledged": True, "shards_acknowledged": True, "index": name})
    server.on("DELETE", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1", ACKED)
    with pytest.raises(RuntimeError, match="indexer crashed"), store.rebuild():
        raise RuntimeError("indexer crashed")
    assert server.calls()[-1] == ("DELETE", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1")
    assert server.requests[-1].params == {"ignore_unavailable": "true"}
    assert ("POST", "/_aliases") not in server.calls()


def test_failed_alias_swap_deletes_the_new_indices(server: FakeElasticsearch, store: ElasticStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic_adapter, "timestamp", lambda: "1")
    for name in ("claimlookup-articles-v1-1", "claimlookup-sentences-v1-1"):
        server.on("PUT", f"/{name}", {"acknowledged": True, "shards_acknowledged": True, "index": name})
    server.on("GET", "/", info("8.19.10"))
    server.on("POST", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1/_refresh", REFRESHED)
    server.on("POST", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1/_forcemerge", FORCE_MERGED)
    server.on("PUT", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1/_settings", ACKED)
    server.on("GET", "/_alias/claimlookup-articles", (404, {"error": "alias [claimlookup-articles] missing",
                                                            "status": 404}))
    server.on("GET", "/_alias/claimlookup-sentences", (404, {"error": "alias [claimlookup-sentences] missing",
                                                             "status": 404}))
    server.on("POST", "/_aliases", (503, es_error("process_cluster_event_timeout_exception", "timed out", 503)))
    server.on("DELETE", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1", ACKED)
    with pytest.raises(StoreUnavailable), store.rebuild():
        pass
    assert server.calls()[-1] == ("DELETE", "/claimlookup-articles-v1-1,claimlookup-sentences-v1-1")
    swap = [r for r in server.requests if r.path == "/_aliases"][0]
    assert swap.body == {"actions": [{"add": {"index": "claimlookup-articles-v1-1", "alias": "claimlookup-articles"}},
                                     {"add": {"index": "claimlookup-sentences-v1-1",
                                              "alias": "claimlookup-sentences"}}]}


def committed_mget(hashes: dict[str, str]) -> Callable[[Request], dict]:
    def reply(request: Request) -> dict:
        return mget_response("claimlookup-articles", [
            (i, {"article_id": i, "content_hash": hashes[i]} if i in hashes else None) for i in request.body["ids"]])
    return reply


def test_sentence_search_filters_generations_and_names_entity_facets(server: FakeElasticsearch,
                                                                     store: ElasticStore) -> None:
    resp = search_response([sentence_hit("a1", 1, "h1", 2.0, "x"), sentence_hit("a1", 1, "old", 1.0, "x")],
                           aggregations={"sources": {"buckets": []}, "months": {"buckets": []},
                                         "entities": {"buckets": [{"key": "idlib", "doc_count": 2,
                                                                   "articles": {"value": 1}}]}})
    server.on("POST", "/claimlookup-sentences/_search", resp)
    server.on("POST", "/claimlookup-articles/_search", search_response([], aggregations={"entities": {
        "doc_count": 1, "matching": {"doc_count": 1, "keys": {"buckets": [
            {"key": "idlib", "doc_count": 1, "name": {"buckets": [{"key": "Idlib", "doc_count": 1}]},
             "label": {"buckets": [{"key": "GPE", "doc_count": 1}]}}]}}}}))
    server.on("POST", "/claimlookup-articles/_mget", committed_mget({"a1": "h1"}))
    page = store.search(SearchRequest(query=query((Term("x"),)), level="sentence"))
    assert [(h.article_id, h.sentence_position, h.score) for h in page.hits] == [("a1", 1, 2.0)]
    assert page.facets.entities == [FacetCount("idlib", 1, label="GPE", name="Idlib")]
    assert server.requests[0].body == elastic.build_search_body(SearchRequest(query=query((Term("x"),)),
                                                                              level="sentence"))


def test_vector_candidates_in_one_msearch(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-sentences/_msearch", {"took": 5, "responses": [
        {**search_response([sentence_hit("a1", 0, "h1", 1.0, "t"), sentence_hit("a2", 3, "zombie", 0.9, "t")]),
         "status": 200},
        {**search_response([sentence_hit("a2", 2, "h2", 0.8, "t")]), "status": 200}]})
    server.on("POST", "/claimlookup-articles/_mget", committed_mget({"a1": "h1", "a2": "h2"}))
    vectors = np.stack([unit(0), unit(5)])
    result = store.vector_candidates(vectors, Filters(sources=("SANA",)), 7)
    assert [[(c.ref, round(c.score, 6)) for c in row] for row in result] == [
        [(SentenceRef("a1", 0), 1.0)], [(SentenceRef("a2", 2), 0.6)]]
    msearch = server.requests[0]
    assert msearch.body == elastic.build_knn_searches(vectors, Filters(sources=("SANA",)), 7)
    assert server.requests[1].body == {"ids": ["a1", "a2"]}


def test_vector_candidates_edge_cases(store: ElasticStore, server: FakeElasticsearch) -> None:
    assert store.vector_candidates(np.zeros((0, DIM), np.float32), Filters(), 5) == []
    assert store.vector_candidates(np.stack([unit(0)]), Filters(), 0) == [[]]
    with pytest.raises(ValueError):
        store.vector_candidates(unit(0), Filters(), 5)
    assert server.requests == []


def test_lexical_candidates(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-sentences/_search",
              search_response([sentence_hit("a1", 0, "h1", 8.0, "t"), sentence_hit("a9", 2, "h9", 4.0, "t")]))
    server.on("POST", "/claimlookup-articles/_mget", committed_mget({"a1": "h1"}))
    parsed = query((Term("sarin"),))
    assert store.lexical_candidates(parsed, Filters(), 10) == [Candidate(SentenceRef("a1", 0), 8.0)]
    assert server.requests[0].body == elastic.build_lexical_body(parsed, Filters(), 10)
    assert store.lexical_candidates(ParsedQuery(), Filters(), 10) == []
    assert store.lexical_candidates(parsed, Filters(), 10, restrict_to=[]) == []
    assert len(server.requests) == 2


def test_get_sentences_in_ref_order_leaving_out_the_missing(server: FakeElasticsearch, store: ElasticStore) -> None:
    facts = {"article_id": "reuters:1", "content_hash": HASH,
             "entities": [{"key": "syria"}, {"key": "idlib"}, {"key": "syria"}]}
    server.on("POST", "/claimlookup-articles/_mget", lambda r: mget_response(
        "claimlookup-articles", [(i, facts if i == "reuters:1" else None) for i in r.body["ids"]]))
    by_id = {elastic.sentence_id("reuters:1", HASH, p): sentence_source(p) for p in range(3)}
    server.on("POST", "/claimlookup-sentences/_mget", lambda r: mget_response(
        "claimlookup-sentences", [(i, by_id.get(i)) for i in r.body["ids"]]))
    refs = [SentenceRef("reuters:1", 2), SentenceRef("gone", 0), SentenceRef("reuters:1", 9),
            SentenceRef("reuters:1", 0)]
    stored = store.get_sentences(refs)
    assert [s.ref for s in stored] == [SentenceRef("reuters:1", 2), SentenceRef("reuters:1", 0)]
    assert stored[0].article_hash == HASH and stored[0].sentence.vector is not None
    assert stored[0].article_entities == stored[1].article_entities == ("idlib", "syria")
    assert server.requests[0].params["_source_includes"] == "article_id,content_hash,entities.key"
    assert server.requests[1].body == {"ids": [f"reuters:1:{GEN}:2", f"reuters:1:{GEN}:9", f"reuters:1:{GEN}:0"]}
    assert "_source_excludes" not in server.requests[1].params


def test_entities_and_sources(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_search",
              search_response([], aggregations={"entities": {"doc_count": 0, "matching": {
                  "doc_count": 0, "keys": {"buckets": []}}}}),
              search_response([], aggregations={"sources": {"buckets": []}}))
    assert store.entities("x", limit=3) == []
    assert store.sources() == []
    assert server.requests[0].body == elastic.build_entities_body("x", None, 3)
    assert server.requests[1].body == elastic.build_sources_body()
    assert store.entities(limit=0) == []
