"""The lookup's round trips to Elasticsearch, counted, and the batched reads
(``ElasticStore.find_candidates``, ``ElasticStore.get_articles``) proved to
give exactly what the ``Store`` methods give one by one.

The lookup runs on an ``ElasticStore`` through the real ``Elasticsearch``
client over ``SmallCluster``: the fake node of ``test_elastic_unit``
answering from documents held in memory (the store contract's corpus, as
``documents.py`` writes it, plus leftovers of uncommitted generations) the
few requests a lookup sends: mget, get, search and msearch with the kNN and
BM25 bodies of ``queries.py``. Its BM25 is its own (an IDF-weighted word
match), its kNN exact cosine; what matters is that one body gets one answer
whether it comes alone or inside an msearch. The same store seen through
the ``Store`` protocol only (``ProtocolOnly``) takes today's path, one call
per claim and per article: both must find the same candidates in the same
order with the same features and scores, and the same reports.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pytest
from contract.fixtures import (
    CONVOY,
    MAARET,
    MARKET_AXIS,
    MARKET_BBC,
    MARKET_REUTERS,
    RUSSIAN,
    SARIN,
    Line,
    axis,
    build_article,
    corpus,
    killed,
    unit,
)
from test_elastic_unit import FakeElasticsearch, Request, bind_fake, mget_response, search_response

from claimlookup import lookup, nlp
from claimlookup.lookup import features, service
from claimlookup.model import Article, EntityMention, Filters, ParsedQuery, SentenceRef, Term
from claimlookup.store.base import BatchedArticles, BatchedCandidates, Store, StoreCorrupt
from claimlookup.store.elastic import (
    ElasticStore,
    article_action,
    article_doc_id,
    build_candidate_searches,
    build_knn_searches,
    build_lexical_body,
    sentence_actions,
    sentence_id,
)

ARTICLES, SENTENCES = "/claimlookup-articles", "/claimlookup-sentences"
TOLL = "reuters-toll"
GONE = "deleted-article"  # an id with no article (excluded, or deleted since its candidates were read)
LEFTOVER = "0" * 64  # the content hash of a crashed write's generation: never shown


# --- a small cluster ----------------------------------------------------------------


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def source_filtered(src: dict, includes: list[str], excludes: list[str]) -> dict:
    """``_source`` filtering as Elasticsearch does it, for top-level fields
    and one level into arrays of objects (``entities.key``)."""
    out: dict[str, Any] = {}
    for field in includes or list(src):
        name, _, sub = field.partition(".")
        if name in src:
            out[name] = [{sub: item[sub]} for item in src[name]] if sub else src[name]
    return {k: v for k, v in out.items() if k not in excludes}


def field_values(src: dict, field: str) -> list[Any]:
    value = src.get(field)
    return value if isinstance(value, list) else [value]


class SmallCluster:
    """Both indices in memory; answers the reads a lookup sends."""

    def __init__(self, server: FakeElasticsearch, articles: list[Article], leftovers: list[Article]) -> None:
        self.server = server
        self.articles = {a["_id"]: a["_source"] for a in (article_action(art, "a") for art in articles)}
        self.sentences = {a["_id"]: a["_source"] for art in [*articles, *leftovers]
                          for a in sentence_actions(art, "s")}
        texts = [set(words(src["text"])) for src in self.sentences.values()]
        self.idf = {w: math.log(1 + len(texts) / sum(w in t for t in texts)) for t in texts for w in t}
        server.on("POST", f"{ARTICLES}/_mget", lambda r: self.mget(r, self.articles))
        server.on("POST", f"{SENTENCES}/_mget", lambda r: self.mget(r, self.sentences))
        server.on("POST", f"{SENTENCES}/_search", lambda r: self.search(r.body))
        server.on("POST", f"{SENTENCES}/_msearch", lambda r: {"took": 1, "responses": [
            {**self.search(body), "status": 200} for body in r.body[1::2]]})
        for doc_id in [*self.articles, GONE]:
            server.on("GET", f"{ARTICLES}/_doc/{doc_id}", lambda r, doc_id=doc_id: self.get(doc_id))

    def get(self, doc_id: str) -> Any:
        if doc_id not in self.articles:
            return 404, {"_index": "claimlookup-articles-v1-1", "_id": doc_id, "found": False}
        return {"_index": "claimlookup-articles-v1-1", "_id": doc_id, "_version": 1, "_seq_no": 0,
                "_primary_term": 1, "found": True, "_source": self.articles[doc_id]}

    def mget(self, request: Request, docs: dict[str, dict]) -> dict:
        includes = [f for f in request.params.get("_source_includes", "").split(",") if f]
        excludes = [f for f in request.params.get("_source_excludes", "").split(",") if f]
        return mget_response("claimlookup-v1-1", [
            (i, source_filtered(docs[i], includes, excludes) if i in docs else None) for i in request.body["ids"]])

    def search(self, body: dict) -> dict:
        if "knn" in body:
            scored = self.knn(body["knn"])
        else:
            scored = sorted(((self.relevance(body["query"], src), i) for i, src in self.sentences.items()
                             if self.matches(body["query"], src)),
                            key=lambda s: (-s[0], self.sentences[s[1]]["article_id"],
                                           self.sentences[s[1]]["position"]))
        return search_response([{"_index": "claimlookup-sentences-v1-1", "_id": i, "_score": score,
                                 "_source": source_filtered(self.sentences[i], body["_source"], [])}
                                for score, i in scored[:body["size"]]])

    def knn(self, knn: dict) -> list[tuple[float, str]]:
        query = np.asarray(knn["query_vector"], dtype=np.float32)
        scored = []
        for i, src in self.sentences.items():
            if "vector" in src and all(self.matches(c, src) for c in knn.get("filter", [])):
                vector = np.asarray(src["vector"], dtype=np.float32)
                cosine = float(query @ vector / (np.linalg.norm(query) * np.linalg.norm(vector)))
                scored.append(((1.0 + cosine) / 2.0, i))
        return sorted(scored, key=lambda s: (-s[0], s[1]))[:knn["k"]]

    def matches(self, clause: dict, src: dict) -> bool:
        (kind, spec), = clause.items()
        if kind == "match_all":
            return True
        if kind == "bool":
            should = spec.get("should", [])
            return (all(self.matches(c, src) for c in [*spec.get("must", []), *spec.get("filter", [])])
                    and not any(self.matches(c, src) for c in spec.get("must_not", []))
                    and (not should or sum(self.matches(c, src) for c in should)
                         >= spec.get("minimum_should_match", 1)))
        (field, value), = spec.items()
        if kind == "match":
            assert value.get("operator") == "and"
            return set(words(value["query"])) <= set(words(src[field]))
        if kind == "term":
            if isinstance(value, dict):
                wanted, fold = value["value"], value.get("case_insensitive", False)
            else:
                wanted, fold = value, False
            return any(v == wanted or fold and str(v).lower() == str(wanted).lower()
                       for v in field_values(src, field))
        if kind == "terms":
            return any(v in value for v in field_values(src, field))
        raise AssertionError(f"SmallCluster does not answer {kind} queries")

    def relevance(self, clause: dict, src: dict) -> float:
        """IDF of the matched words of every matching ``match`` clause, over
        the square root of the sentence's length."""
        (kind, spec), = clause.items()
        if kind == "bool":
            return sum(self.relevance(c, src) for c in [*spec.get("must", []), *spec.get("should", [])])
        if kind == "match" and self.matches(clause, src):
            (field, value), = spec.items()
            return sum(self.idf[w] for w in set(words(value["query"]))) / math.sqrt(len(words(src[field])))
        return 0.0


class ProtocolOnly:
    """A store seen through the ``Store`` protocol only: the lookup cannot see
    its optional batched reads and takes the one-call-per-claim path."""

    MEMBERS = frozenset(name for name in dir(Store) if not name.startswith("_"))

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name not in self.MEMBERS:
            raise AttributeError(name)
        return getattr(self._store, name)


def leftovers() -> list[Article]:
    """Sentences of writes that never committed: a generation of the BBC
    report that its article document does not name, and an article with no
    document at all; the first sentence of each right on the market axis,
    so kNN finds them first."""
    bbc = next(a for a in corpus() if a.id == MARKET_BBC)
    crashed = dataclasses.replace(bbc, body=bbc.body + " Updated.")
    orphan = dataclasses.replace(bbc, id="never-committed")
    for article in (crashed, orphan):
        article.sentences[1].vector = unit((MARKET_AXIS, 1.0))
    return [crashed, orphan]


def toll_report() -> Article:
    """A later report of the market strike whose second figure is in a
    sentence that matches the claim in nothing else: the lookup adds it to
    the report's sentences (``with_figure_sentences``)."""
    article = build_article(6, TOLL, Line("Russian jets strike vegetable market in Maaret al-Numan, toll rises",
                                          [RUSSIAN, MAARET]),
                            [Line("Russian jets struck a vegetable market in Maaret al-Numan on Tuesday, killing 20 "
                                  "people.", [RUSSIAN, MAARET], [killed(20, "20")]),
                             Line("By Wednesday medics counted 25 dead.", [], [killed(25, "25")])],
                            source="Reuters", published=date(2017, 4, 6), shared_axis=MARKET_AXIS)
    article.sentences[2].vector = unit((axis(6, 2), 1.0))
    return article


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeElasticsearch]:
    fake = FakeElasticsearch()
    bind_fake(monkeypatch, fake)
    SmallCluster(fake, [*corpus(), toll_report()], leftovers())
    yield fake


@pytest.fixture
def store(server: FakeElasticsearch) -> Iterator[ElasticStore]:
    store = ElasticStore("http://es.test:9200")
    yield store
    store.close()


# --- claims, prepared as the store contract does (no spaCy model, no embedder) ------------------


def market_claim() -> lookup.PreparedClaim:
    text = "Russian jets struck a vegetable market in Maaret al-Numan, killing 20 people"
    entities = [EntityMention(name, label, key, text.index(name), text.index(name) + len(name))
                for name, label, key in (RUSSIAN, MAARET)]
    return lookup._prepared(text, [], entities, [killed(20, "20 people")], nlp.key_terms(text),
                            unit((MARKET_AXIS, 1.0))[None, :])


def convoy_claim() -> lookup.PreparedClaim:
    text = "An aid convoy was attacked near Aleppo"
    return lookup._prepared(text, [], [], [], nlp.key_terms(text), unit((axis(2, 1), 1.0))[None, :])


def wordless_claim() -> lookup.PreparedClaim:
    """A claim with no key terms: no BM25 search at all, only its vector's."""
    return lookup._prepared("", [], [], [], [], unit((axis(3, 1), 1.0))[None, :])


def sent(server: FakeElasticsearch, since: int) -> list[tuple[str, str]]:
    return [(method, path.rsplit("/", 1)[-1] if "/_doc/" not in path else "_doc")
            for method, path in server.calls()[since:]]


def assert_same_sets(old: list[features.CandidateSet], new: list[features.CandidateSet]) -> None:
    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        assert [s.ref for s in a.sentences] == [s.ref for s in b.sentences]
        assert [dataclasses.replace(s, sentence=dataclasses.replace(s.sentence, vector=None)) for s in a.sentences] \
            == [dataclasses.replace(s, sentence=dataclasses.replace(s.sentence, vector=None)) for s in b.sentences]
        for x, y in zip(a.sentences, b.sentences, strict=True):
            assert x.sentence.vector is not None and y.sentence.vector is not None
            assert np.array_equal(x.sentence.vector, y.sentence.vector)
        assert np.array_equal(a.features, b.features)
        assert (a.articles, a.article_rows) == (b.articles, b.article_rows)
        assert np.array_equal(lookup.score(a).article_scores, lookup.score(b).article_scores)
        assert np.array_equal(lookup.score(a).scores, lookup.score(b).scores)


# --- the counts and the proof -----------------------------------------------------------------


def test_the_store_offers_the_batched_reads_and_the_protocol_view_hides_them(store: ElasticStore) -> None:
    assert isinstance(store, BatchedCandidates) and isinstance(store, BatchedArticles)
    assert not isinstance(ProtocolOnly(store), BatchedCandidates | BatchedArticles)


def test_one_claims_candidates_take_four_requests_instead_of_six(server: FakeElasticsearch,
                                                                 store: ElasticStore) -> None:
    claims = [market_claim()]
    old = lookup.candidate_sets(ProtocolOnly(store), claims, Filters())
    before = sent(server, 0)
    assert before == [("POST", "_msearch"), ("POST", "_mget"),  # kNN, then its hits' committed generations
                      ("POST", "_search"), ("POST", "_mget"),   # BM25, then its hits' committed generations
                      ("POST", "_mget"), ("POST", "_mget")]     # get_sentences: the articles, the sentences
    new = lookup.candidate_sets(store, claims, Filters())
    assert sent(server, len(before)) == [("POST", "_msearch"), ("POST", "_mget"), ("POST", "_mget"),
                                         ("POST", "_mget")]
    assert_same_sets(old, new)
    batched = server.requests[len(before)]
    assert [list(b)[0] for b in batched.body[1::2]] == ["knn", "query"]  # kNN and BM25 in one msearch
    refs = [s.ref for s in new[0].sentences]
    assert SentenceRef(MARKET_REUTERS, 1) in refs and SentenceRef(MARKET_BBC, 1) in refs
    assert not {r.article_id for r in refs} & {"never-committed"}  # leftovers are never candidates
    assert all(s.article_hash != leftovers()[0].content_hash for s in new[0].sentences)


def test_many_claims_candidates_take_four_requests_whatever_their_number(server: FakeElasticsearch,
                                                                         store: ElasticStore) -> None:
    claims = [market_claim(), wordless_claim(), convoy_claim()]
    filters = Filters(exclude_articles=(SARIN,))
    old = lookup.candidate_sets(ProtocolOnly(store), claims, filters, limit=3)
    before = len(server.requests)
    assert before == 2 + 2 * 2 + 2  # the wordless claim sends no BM25 search
    new = lookup.candidate_sets(store, claims, filters, limit=3)
    assert len(server.requests) - before == 4
    assert_same_sets(old, new)
    msearch = server.requests[before]
    assert msearch.body == build_candidate_searches([features.lexical_query(c, features.PROPOSING_TERMS)
                                                     for c in (claims[0], claims[2])],
                                                    np.vstack([c.vectors for c in claims]), filters, 3, 3)
    assert [s.ref.article_id for s in new[2].sentences][0] == CONVOY
    assert all(s.ref.article_id != SARIN for c in new for s in c.sentences)


def test_a_whole_lookup_reads_the_same_reports_in_fewer_requests(server: FakeElasticsearch, store: ElasticStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``find_reports`` after the claim's analysis: candidates, the figure
    sentences of the best reports (``with_figure_sentences``) and the
    excluded articles (``exclude_articles``: one stored, one not)."""
    claim = market_claim()
    monkeypatch.setattr(service, "prepare_claims", lambda texts: [claim])
    monkeypatch.setattr(features, "VECTOR_CANDIDATES", 6)  # few candidates: the figure stage has sentences to add
    monkeypatch.setattr(features, "LEXICAL_CANDIDATES", 6)
    request = lookup.LookupRequest(claim.text, Filters(exclude_articles=(SARIN, GONE)), limit=5)
    old = lookup.find_reports(ProtocolOnly(store), request)
    before = sent(server, 0)
    new = lookup.find_reports(store, request)
    after = sent(server, len(before))
    assert new == old
    assert [r.article_id for r in new.reports] == [MARKET_REUTERS, TOLL, MARKET_BBC]
    toll = new.reports[1]
    assert 2 in [s.position for s in toll.sentences]  # "25 dead": added by the figure stage
    # Before: candidates 6 (kNN + its mget, BM25 + its mget, get_sentences 2);
    # figures: get_article of each of the 3 best reports (get + mget each), then
    # get_sentences (2); exclusions: get_article (2 + 1 for the unknown id),
    # then get_sentences of the title (2).
    assert len(before) == 6 + (3 * 2 + 2) + (2 + 1 + 2) == 19
    # After: candidates 4 (one msearch, its mget, get_sentences 2); figures:
    # get_articles (2), get_sentences (2); exclusions: get_articles (2), get_sentences (2).
    assert after == [("POST", "_msearch")] + [("POST", "_mget")] * 11


# --- the batched reads on their own --------------------------------------------------------------


def test_get_articles_reads_what_get_article_reads_in_two_requests(server: FakeElasticsearch,
                                                                   store: ElasticStore) -> None:
    ids = [CONVOY, GONE, MARKET_REUTERS, CONVOY]
    one_by_one = [store.get_article(i) for i in (CONVOY, MARKET_REUTERS)]
    before = len(server.requests)
    assert store.get_articles(ids) == one_by_one
    assert sent(server, before) == [("POST", "_mget"), ("POST", "_mget")]
    articles, sentences = server.requests[before:]
    assert articles.body == {"ids": [CONVOY, GONE, MARKET_REUTERS]} and articles.params == {}
    assert sentences.params == {"_source_excludes": "vector"}
    assert store.get_articles([GONE]) == [] and store.get_articles([]) == []
    assert len(server.requests) == before + 3  # the gone article's document, no sentence read


def test_get_articles_reads_again_an_article_whose_generation_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeElasticsearch()
    bind_fake(monkeypatch, server)
    old, other = corpus()[2], corpus()[3]
    new = dataclasses.replace(old, title="Aid convoy attacked near Aleppo, 18 trucks lost")
    sentences = {action["_id"]: {k: v for k, v in action["_source"].items() if k != "vector"}
                 for a in (new, other) for action in sentence_actions(a, "s")}  # old's are deleted already
    server.on("POST", f"{ARTICLES}/_mget",
              lambda r: mget_response("a", [(i, article_action(old if i == old.id else other, "a")["_source"])
                                            for i in r.body["ids"]]),
              lambda r: mget_response("a", [(i, article_action(new, "a")["_source"]) for i in r.body["ids"]]))
    server.on("POST", f"{SENTENCES}/_mget",
              lambda r: mget_response("s", [(i, sentences.get(i)) for i in r.body["ids"]]))
    store = ElasticStore("http://es.test:9200")
    found = store.get_articles([old.id, other.id])
    assert [a.title for a in found] == [new.title, other.title]
    assert server.requests[2].body == {"ids": [old.id]}  # only the moved article is read again
    assert len(server.requests) == 4


def test_get_articles_with_committed_sentences_missing_is_corrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeElasticsearch()
    bind_fake(monkeypatch, server)
    article = corpus()[2]
    server.on("POST", f"{ARTICLES}/_mget", mget_response("a", [(article.id, article_action(article, "a")["_source"])]))
    first = sentence_id(article.id, article.content_hash, 0)
    server.on("POST", f"{SENTENCES}/_mget", lambda r: mget_response("s", [
        (i, next(a["_source"] for a in sentence_actions(article, "s") if a["_id"] == i) if i == first else None)
        for i in r.body["ids"]]))
    with pytest.raises(StoreCorrupt, match="2 committed sentence"):
        ElasticStore("http://es.test:9200").get_articles([article.id])
    assert len(server.requests) == 6  # READ_ATTEMPTS reads of both


def test_find_candidates_edge_cases(server: FakeElasticsearch, store: ElasticStore) -> None:
    vectors = np.stack([unit((MARKET_AXIS, 1.0))])
    empty = store.find_candidates([ParsedQuery()], np.zeros((0, 384), np.float32), Filters(),
                                  lexical_limit=5, vector_limit=5)
    assert (empty.lexical, empty.vector) == ([[]], [])
    zero = store.find_candidates([ParsedQuery(groups=((Term("market"),),))], vectors, Filters(),
                                 lexical_limit=0, vector_limit=0)
    assert (zero.lexical, zero.vector) == ([[]], [[]])
    assert server.requests == []
    with pytest.raises(ValueError):
        store.find_candidates([], vectors[0], Filters(), lexical_limit=5, vector_limit=5)
    words_only = store.find_candidates([ParsedQuery(groups=((Term("market"),),))], vectors, Filters(),
                                       lexical_limit=5, vector_limit=0)
    assert words_only.vector == [[]] and words_only.lexical[0]
    assert server.requests[0].body == [{}, build_lexical_body(ParsedQuery(groups=((Term("market"),),)),
                                                              Filters(), 5)]


def test_candidate_searches_body() -> None:
    vectors = np.stack([unit((0, 1.0)), unit((1, 1.0))])
    queries = [ParsedQuery(groups=((Term("sarin"),),))]
    filters = Filters(sources=("SANA",))
    assert build_candidate_searches(queries, vectors, filters, 7, 9) == [
        *build_knn_searches(vectors, filters, 9), {}, build_lexical_body(queries[0], filters, 7)]
    assert article_doc_id(MARKET_REUTERS) == MARKET_REUTERS  # SmallCluster's document ids are the article ids
