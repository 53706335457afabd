"""Store contract, candidate retrieval for the claim lookup:
``lexical_candidates``, ``vector_candidates`` and ``get_sentences``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from claimlookup.model import Filters, SentenceRef
from claimlookup.query import parse_query
from claimlookup.store import Store

from .base import ContractBase
from .fixtures import CONVOY, MARKET_AXIS, MARKET_BBC, MARKET_REUTERS, MARKUP, SARIN, corpus_by_id, unit, vector_of


class CandidatesContract(ContractBase):
    """Candidate retrieval for the claim lookup: ``lexical_candidates``
    (BM25 over sentences, titles included, filters, ``restrict_to``),
    ``vector_candidates`` (cosine, several queries, filters) and
    ``get_sentences``."""

    def test_lexical_candidates(self, loaded: Store) -> None:
        found = loaded.lexical_candidates(parse_query("vegetable OR struck OR tuesday OR killing"), Filters(), 10)
        assert found[0].ref == SentenceRef(MARKET_REUTERS, 1)  # the only one with all four terms
        found = loaded.lexical_candidates(parse_query("market OR vegetable OR civilians"), Filters(), 10)
        refs = [c.ref for c in found]
        assert set(refs) == {SentenceRef(MARKET_REUTERS, 0), SentenceRef(MARKET_REUTERS, 1),
                             SentenceRef(MARKET_BBC, 0), SentenceRef(MARKET_BBC, 1)}
        scores = [c.score for c in found]
        assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)

    def test_lexical_candidates_limit_and_filters(self, loaded: Store) -> None:
        query = parse_query("market OR vegetable OR civilians")
        assert len(loaded.lexical_candidates(query, Filters(), 2)) == 2
        found = loaded.lexical_candidates(query, Filters(sources=("BBC",)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_BBC}
        found = loaded.lexical_candidates(query, Filters(exclude_articles=(MARKET_BBC,)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_REUTERS}
        found = loaded.lexical_candidates(query, Filters(date_to=date(2017, 4, 5)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_REUTERS}
        found = loaded.lexical_candidates(query, Filters(entities=("idlib",)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_BBC}

    def test_lexical_candidates_restrict_to(self, loaded: Store) -> None:
        query = parse_query("market OR vegetable OR civilians")
        wanted = [SentenceRef(MARKET_BBC, 1), SentenceRef(SARIN, 1), SentenceRef("no-such-article", 0)]
        found = loaded.lexical_candidates(query, Filters(), 10, restrict_to=wanted)
        assert [c.ref for c in found] == [SentenceRef(MARKET_BBC, 1)]
        assert loaded.lexical_candidates(query, Filters(), 10, restrict_to=[]) == []

    def test_lexical_candidates_include_titles(self, loaded: Store) -> None:
        found = loaded.lexical_candidates(parse_query("sarin"), Filters(), 10)
        assert [c.ref for c in found] == [SentenceRef(SARIN, 0)]

    def test_vector_candidates(self, loaded: Store) -> None:
        [found] = loaded.vector_candidates(vector_of(CONVOY, 2)[None, :], Filters(), 3)
        assert found[0].ref == SentenceRef(CONVOY, 2)
        assert found[0].score == pytest.approx(1.0, abs=1e-5)
        assert len(found) == 3 and [c.score for c in found] == sorted((c.score for c in found), reverse=True)

    def test_vector_candidates_several_queries(self, loaded: Store) -> None:
        queries = np.stack([vector_of(SARIN, 0), vector_of(MARKUP, 1), unit((MARKET_AXIS, 1.0))])
        found = loaded.vector_candidates(queries, Filters(), 5)
        assert [f[0].ref for f in found[:2]] == [SentenceRef(SARIN, 0), SentenceRef(MARKUP, 1)]
        assert {c.ref.article_id for c in found[2]} == {MARKET_REUTERS, MARKET_BBC}
        assert len(found[2]) == 5

    def test_vector_candidates_filters(self, loaded: Store) -> None:
        market = unit((MARKET_AXIS, 1.0))[None, :]
        [found] = loaded.vector_candidates(market, Filters(sources=("BBC",)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_BBC} and len(found) == 3
        [found] = loaded.vector_candidates(market, Filters(exclude_articles=(MARKET_BBC,)), 4)
        assert {c.ref.article_id for c in found} == {MARKET_REUTERS}
        [found] = loaded.vector_candidates(market, Filters(date_from=date(2017, 4, 6)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_BBC}
        [found] = loaded.vector_candidates(market, Filters(entities=("syrian observatory",)), 10)
        assert {c.ref.article_id for c in found} == {MARKET_REUTERS}
        assert loaded.vector_candidates(market, Filters(sources=("Nobody",)), 10) == [[]]

    def test_get_sentences_in_ref_order(self, loaded: Store) -> None:
        refs = [SentenceRef(SARIN, 2), SentenceRef(MARKET_REUTERS, 1), SentenceRef("gone", 1),
                SentenceRef(MARKET_REUTERS, 99), SentenceRef(MARKET_REUTERS, 0)]
        got = loaded.get_sentences(refs)
        assert [s.ref for s in got] == [refs[0], refs[1], refs[4]]
        original = corpus_by_id()[MARKET_REUTERS]
        stored = got[1]
        assert (stored.title, stored.source, stored.published, stored.url, stored.article_hash) == (
            original.title, original.source, original.published, original.url, original.content_hash)
        assert stored.article_entities == tuple(sorted({e.key for s in original.sentences for e in s.entities}))
        assert stored.article_entities
        want = original.sentences[1]
        assert replace(stored.sentence, vector=None) == replace(want, vector=None)
        assert stored.sentence.vector is not None
        np.testing.assert_allclose(stored.sentence.vector, want.vector, atol=1e-6)
        assert loaded.get_sentences([]) == []
