"""The store contract: the behaviour ``claimlookup.store.base.Store`` documents,
written once. An adapter's test module subclasses ``StoreContract`` and
supplies a ``store`` fixture: an empty, set-up store that is closed afterwards.

Everything here goes through the protocol only, so the same tests run against
SQLite and Elasticsearch. Corpus facts live in ``fixtures.py``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from claimlookup import lookup, nlp
from claimlookup.model import (
    EntityMention,
    Filters,
    ParsedQuery,
    SearchPage,
    SearchRequest,
    SentenceRef,
    Term,
    WriteStatus,
)
from claimlookup.query import parse_query
from claimlookup.store import ArticleNotFound, Store, StoreError

from .fixtures import (
    CONVOY,
    MAARET,
    RUSSIAN,
    MARKET_AXIS,
    MARKET_BBC,
    MARKET_REUTERS,
    MARKUP,
    SARIN,
    UNDATED,
    Line,
    build_article,
    corpus,
    corpus_by_id,
    extra_article,
    killed,
    unit,
    vector_of,
)

ALL_IDS = {a.id for a in corpus()}
TAG = re.compile(r"<[^>]*>")


def search(store: Store, q: str = "", **kwargs) -> SearchPage:
    return store.search(SearchRequest(query=parse_query(q), **kwargs))


def hit_ids(page: SearchPage) -> list[str]:
    return [hit.article_id for hit in page.hits]


def facet_map(facets) -> dict[str, int]:
    return {f.value: f.count for f in facets}


def marked_words(snippet: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<mark>(.*?)</mark>", snippet)}


class StoreContract:
    """Subclass and provide ``store`` (empty, set up)."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError("adapter test modules provide the store fixture")

    @pytest.fixture
    def loaded(self, store: Store) -> Store:
        outcomes = list(store.write_articles(corpus()))
        assert [o.status for o in outcomes] == [WriteStatus.NEW] * len(outcomes)
        return store

    # --- lifecycle -------------------------------------------------------------

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_setup_is_idempotent_and_ping_answers(self, loaded: Store) -> None:
        loaded.setup()
        loaded.ping()
        assert loaded.count_articles() == len(ALL_IDS)

    def test_close_twice(self, loaded: Store) -> None:
        loaded.close()
        loaded.close()

    def test_empty_store(self, store: Store) -> None:
        assert store.count_articles() == 0
        page = search(store)
        assert (page.total, page.hits) == (0, [])
        assert search(store, "market").total == 0
        assert store.sources() == []
        assert store.entities() == []
        assert store.vector_candidates(unit((0, 1.0))[None, :], Filters(), 5) == [[]]
        assert store.lexical_candidates(parse_query("market"), Filters(), 5) == []

    # --- writing ----------------------------------------------------------------

    def test_write_outcomes_in_input_order(self, store: Store) -> None:
        articles = corpus()
        outcomes = list(store.write_articles(articles))
        assert [o.article_id for o in outcomes] == [a.id for a in articles]
        assert all(o.status is WriteStatus.NEW for o in outcomes)
        assert [o.sentences for o in outcomes] == [len(a.sentences) for a in articles]
        assert [o.entities for o in outcomes] == [len(a.entities) for a in articles]
        assert store.count_articles() == len(articles)

    def test_write_is_lazy(self, store: Store) -> None:
        outcomes = store.write_articles(corpus())
        assert store.count_articles() == 0
        next(outcomes)
        list(outcomes)
        assert store.count_articles() == len(ALL_IDS)

    def test_same_content_is_unchanged(self, loaded: Store) -> None:
        outcomes = list(loaded.write_articles(corpus()[:2]))
        assert [o.status for o in outcomes] == [WriteStatus.UNCHANGED] * 2
        assert loaded.count_articles() == len(ALL_IDS)

    def test_changed_content_is_updated(self, loaded: Store) -> None:
        article = corpus_by_id()[SARIN]
        article.title = "Sarin attack in Khan Sheikhoun: the inquiry"
        article.sentences[0] = replace(article.sentences[0], text=article.title, end=len(article.title))
        [outcome] = loaded.write_articles([article])
        assert outcome.status is WriteStatus.UPDATED
        assert loaded.get_article(SARIN).title == article.title
        assert hit_ids(search(loaded, "inquiry")) == [SARIN]
        assert loaded.count_articles() == len(ALL_IDS)

    def test_content_hashes(self, loaded: Store) -> None:
        expected = {a.id: a.content_hash for a in corpus()[:2]}
        assert loaded.content_hashes([*expected, "no-such-article"]) == expected
        assert loaded.content_hashes([]) == {}

    def test_roundtrip(self, loaded: Store) -> None:
        for original in corpus():
            stored = loaded.get_article(original.id)
            assert (stored.id, stored.title, stored.body, stored.source, stored.url, stored.published,
                    stored.language) == (original.id, original.title, original.body, original.source,
                                         original.url, original.published, original.language)
            assert stored.content_hash == original.content_hash
            assert len(stored.sentences) == len(original.sentences)
            for got, want in zip(stored.sentences, original.sentences):
                assert got.vector is None  # get_article omits vectors
                assert replace(got, vector=None) == replace(want, vector=None)

    def test_replace_leaves_no_orphans(self, loaded: Store) -> None:
        old = build_article(9, "rewritten", Line("Zeppelin sighted over Homs", [("Zeppelin", "PRODUCT", "zeppelin")]),
                            [Line("A zeppelin hovered over Homs for an hour.", [("Homs", "GPE", "homs")]),
                             Line("Witnesses filmed the zeppelin.")], source="Orphan News", published=date(2019, 5, 1))
        new = build_article(10, "rewritten", Line("Balloon sighted over Hama"),
                            [Line("A weather balloon drifted over Hama.")], source="Balloon Daily",
                            published=date(2019, 6, 1))
        list(loaded.write_articles([old]))
        assert [o.status for o in loaded.write_articles([new])] == [WriteStatus.UPDATED]

        for level in ("article", "sentence"):
            assert search(loaded, "zeppelin", level=level).total == 0
            assert hit_ids(search(loaded, "balloon", level=level)) == ["rewritten"] * (1 if level == "article" else 2)
        assert loaded.entities("zepp") == [] and loaded.entities("homs") == []
        assert "Orphan News" not in {s.source for s in loaded.sources()}
        assert loaded.lexical_candidates(parse_query("zeppelin OR homs"), Filters(), 10) == []
        old_refs = [SentenceRef("rewritten", p) for p in range(3)]
        assert [s.ref for s in loaded.get_sentences(old_refs)] == old_refs[:2]
        assert loaded.get_sentences([SentenceRef("rewritten", 1)])[0].sentence.text == new.sentences[1].text
        zeppelin = old.sentences[1].vector
        nearest = loaded.vector_candidates(zeppelin[None, :], Filters(), 50)[0]
        assert all(c.score < 0.99 for c in nearest)
        assert {c.ref for c in nearest if c.ref.article_id == "rewritten"} <= set(old_refs[:2])
        facets = search(loaded).facets
        assert "zeppelin" not in facet_map(facets.entities) and "2019-05" not in facet_map(facets.months)

    def test_delete(self, loaded: Store) -> None:
        loaded.delete_article(SARIN)
        assert loaded.count_articles() == len(ALL_IDS) - 1
        with pytest.raises(ArticleNotFound):
            loaded.get_article(SARIN)
        assert search(loaded, "sarin").total == 0
        assert search(loaded, "chemical", level="sentence").total == 0
        assert loaded.entities("khan") == []
        assert "Al Jazeera" not in {s.source for s in loaded.sources()}
        assert loaded.lexical_candidates(parse_query("chemical"), Filters(), 10) == []
        nearest = loaded.vector_candidates(vector_of(SARIN, 1)[None, :], Filters(), 100)[0]
        assert SARIN not in {c.ref.article_id for c in nearest}
        assert loaded.get_sentences([SentenceRef(SARIN, 1)]) == []
        assert loaded.content_hashes([SARIN]) == {}

    def test_delete_missing(self, loaded: Store) -> None:
        with pytest.raises(ArticleNotFound) as raised:
            loaded.delete_article("no-such-article")
        assert isinstance(raised.value, (StoreError, KeyError))
        assert loaded.count_articles() == len(ALL_IDS)

    def test_get_missing(self, loaded: Store) -> None:
        with pytest.raises(ArticleNotFound):
            loaded.get_article("no-such-article")

    def test_write_after_delete(self, loaded: Store) -> None:
        loaded.delete_article(CONVOY)
        [outcome] = loaded.write_articles([corpus_by_id()[CONVOY]])
        assert outcome.status is WriteStatus.NEW
        assert hit_ids(search(loaded, "convoy")) == [CONVOY]

    # --- search: syntax ---------------------------------------------------------

    def test_words_must_all_match(self, loaded: Store) -> None:
        assert set(hit_ids(search(loaded, "market"))) == {MARKET_REUTERS, MARKET_BBC}
        assert hit_ids(search(loaded, "market vegetable")) == [MARKET_REUTERS]
        assert search(loaded, "market sarin").total == 0

    def test_matching_ignores_case(self, loaded: Store) -> None:
        assert set(hit_ids(search(loaded, "MARKET"))) == {MARKET_REUTERS, MARKET_BBC}

    def test_phrase(self, loaded: Store) -> None:
        assert hit_ids(search(loaded, '"vegetable market"')) == [MARKET_REUTERS]
        assert search(loaded, '"market vegetable"').total == 0
        assert set(hit_ids(search(loaded, '"air strike"'))) == {MARKET_BBC}

    def test_exclude(self, loaded: Store) -> None:
        assert hit_ids(search(loaded, "market -vegetable")) == [MARKET_BBC]
        assert hit_ids(search(loaded, 'market -"vegetable market"')) == [MARKET_BBC]
        assert hit_ids(search(loaded, 'market -"market vegetable"', sort="date")) == [MARKET_BBC, MARKET_REUTERS]

    def test_or(self, loaded: Store) -> None:
        assert set(hit_ids(search(loaded, "sarin OR convoy"))) == {SARIN, CONVOY}
        assert hit_ids(search(loaded, "sarin OR convoy trucks")) == [CONVOY]

    def test_exclusion_only_query_object(self, loaded: Store) -> None:
        """The parser refuses it, but a store given one lists what is left."""
        page = loaded.search(SearchRequest(query=ParsedQuery(excluded=(Term("aleppo"),))))
        assert set(hit_ids(page)) == ALL_IDS - {CONVOY, UNDATED, MARKUP}

    @pytest.mark.parametrize("text", ['"', "*", "NEAR(", "NEAR(market", "AND", "OR", "NOT", "-", ":", "title:market",
                                      "market*", '"market', "market)", "(", "^market", "{body}", "'", "\\", "%", "_",
                                      "market\x00", "\u00e9\u0301", "\ufffd", "+", "a:b:c",
                                      "NEAR(market vegetable, 2)"])
    def test_fts_hostile_terms_are_plain_text(self, loaded: Store, text: str) -> None:
        for level in ("article", "sentence"):
            for term in (Term(text), Term(text, phrase=True)):
                loaded.search(SearchRequest(query=ParsedQuery(groups=((term,),)), level=level))
                loaded.search(SearchRequest(query=ParsedQuery(groups=((Term("market"),),), excluded=(term,)),
                                            level=level))
            loaded.lexical_candidates(ParsedQuery(groups=((Term(text), Term("market")),)), Filters(), 5)

    @pytest.mark.parametrize("text", ["market*", '"market', "market)", "(market", "market:", "-market", "market."])
    def test_punctuation_around_a_word_still_finds_it(self, loaded: Store, text: str) -> None:
        page = loaded.search(SearchRequest(query=ParsedQuery(groups=((Term(text),),))))
        assert set(hit_ids(page)) == {MARKET_REUTERS, MARKET_BBC}

    @pytest.mark.parametrize(("word", "found"), [("AND", {UNDATED}), ("NOT", {UNDATED}), ("NEAR", {CONVOY}),
                                                 ("NEAR(", {CONVOY}), ("OR", set())])
    def test_operator_words_are_words(self, loaded: Store, word: str, found: set[str]) -> None:
        page = loaded.search(SearchRequest(query=ParsedQuery(groups=((Term(word),),))))
        assert set(hit_ids(page)) == found

    # --- search: levels, snippets ------------------------------------------------

    def test_article_level_one_hit_per_article(self, loaded: Store) -> None:
        page = search(loaded, "attack", size=50)
        assert sorted(hit_ids(page)) == sorted({MARKET_BBC, CONVOY, SARIN})
        assert page.total == 3
        assert all(hit.sentence_position is None for hit in page.hits)

    def test_sentence_level(self, loaded: Store) -> None:
        page = search(loaded, "market", level="sentence", size=50)
        refs = {(hit.article_id, hit.sentence_position) for hit in page.hits}
        assert refs == {(MARKET_REUTERS, 0), (MARKET_REUTERS, 1), (MARKET_BBC, 0), (MARKET_BBC, 1)}
        assert page.total == 4
        by_ref = {(h.article_id, h.sentence_position): h for h in page.hits}
        title_hit = by_ref[(MARKET_BBC, 0)]
        assert title_hit.snippet == "Air strike on Idlib <mark>market</mark> kills 23"
        assert title_hit.title == "Air strike on Idlib market kills 23" and title_hit.source == "BBC"

    def test_hit_fields(self, loaded: Store) -> None:
        [hit] = search(loaded, "vegetable").hits
        assert (hit.article_id, hit.title, hit.source, hit.published, hit.url) == (
            MARKET_REUTERS, "Russian jets strike vegetable market in Maaret al-Numan", "Reuters",
            date(2017, 4, 5), "https://example.org/reuters/market")
        assert "vegetable" in marked_words(hit.snippet)

    def test_relevance_orders_by_score(self, loaded: Store) -> None:
        page = search(loaded, "attack OR market OR aleppo", size=50)
        scores = [hit.score for hit in page.hits]
        assert scores == sorted(scores, reverse=True)

    def test_snippet_is_escaped_with_only_mark_tags(self, loaded: Store) -> None:
        for level in ("article", "sentence"):
            [hit] = search(loaded, "bazaar", level=level).hits
            assert hit.article_id == MARKUP
            assert "&lt;script&gt;" in hit.snippet and "&amp;" in hit.snippet
            assert "<script" not in hit.snippet
            assert {tag for tag in TAG.findall(hit.snippet)} == {"<mark>", "</mark>"}
            assert marked_words(hit.snippet) == {"bazaar"}

    def test_listing_snippets_are_escaped(self, loaded: Store) -> None:
        page = search(loaded, size=50, filters=Filters(sources=("Reuters",)))
        [hit] = [h for h in page.hits if h.article_id == MARKUP]
        assert "<script" not in hit.snippet and "&lt;script&gt;" in hit.snippet
        assert TAG.findall(hit.snippet) == []

    # --- search: listing, filters, sort, paging, facets ---------------------------

    def test_empty_query_lists_every_article(self, loaded: Store) -> None:
        page = search(loaded, size=50)
        assert page.total == len(ALL_IDS)
        assert set(hit_ids(page)) == ALL_IDS

    def test_filter_sources(self, loaded: Store) -> None:
        assert set(hit_ids(search(loaded, filters=Filters(sources=("BBC", "Al Jazeera"))))) == {MARKET_BBC, SARIN}
        assert hit_ids(search(loaded, "market", filters=Filters(sources=("BBC",)))) == [MARKET_BBC]
        assert search(loaded, filters=Filters(sources=("Nobody",))).total == 0

    def test_filter_dates_inclusive_and_undated_excluded(self, loaded: Store) -> None:
        window = Filters(date_from=date(2017, 4, 4), date_to=date(2017, 4, 5))
        assert set(hit_ids(search(loaded, filters=window))) == {SARIN, MARKET_REUTERS}
        since = Filters(date_from=date(2017, 1, 1))
        assert set(hit_ids(search(loaded, filters=since))) == {SARIN, MARKET_REUTERS, MARKET_BBC}
        until = Filters(date_to=date(2016, 12, 31))
        assert set(hit_ids(search(loaded, filters=until))) == {CONVOY, MARKUP}

    def test_filter_entities_all_required(self, loaded: Store) -> None:
        assert set(hit_ids(search(loaded, filters=Filters(entities=("maaret al-numan",))))) == {
            MARKET_REUTERS, MARKET_BBC}
        both = Filters(entities=("maaret al-numan", "syrian observatory"))
        assert hit_ids(search(loaded, filters=both)) == [MARKET_REUTERS]
        assert search(loaded, filters=Filters(entities=("maaret al-numan", "aleppo"))).total == 0

    def test_filter_exclude_articles(self, loaded: Store) -> None:
        page = search(loaded, "market", filters=Filters(exclude_articles=(MARKET_REUTERS,)))
        assert hit_ids(page) == [MARKET_BBC]
        assert search(loaded, filters=Filters(exclude_articles=(SARIN, CONVOY))).total == len(ALL_IDS) - 2

    def test_filters_apply_at_sentence_level(self, loaded: Store) -> None:
        page = search(loaded, "market", level="sentence", filters=Filters(sources=("BBC",)))
        assert {h.article_id for h in page.hits} == {MARKET_BBC} and page.total == 2

    def test_sort_by_date_newest_first_undated_last(self, loaded: Store) -> None:
        page = search(loaded, sort="date", size=50)
        assert hit_ids(page) == [MARKET_BBC, MARKET_REUTERS, SARIN, CONVOY, MARKUP, UNDATED]
        page = search(loaded, "aleppo", sort="date", size=50)
        assert hit_ids(page) == [CONVOY, MARKUP, UNDATED]

    def test_sort_by_date_at_sentence_level(self, loaded: Store) -> None:
        page = search(loaded, "market OR attack", level="sentence", sort="date", size=50)
        dates = [h.published for h in page.hits]
        assert dates == sorted(dates, reverse=True)

    def test_paging(self, loaded: Store) -> None:
        pages = [search(loaded, sort="date", page=n, size=4) for n in (1, 2, 3)]
        assert [p.total for p in pages] == [len(ALL_IDS)] * 3
        assert [len(p.hits) for p in pages] == [4, 2, 0]
        assert hit_ids(pages[0]) + hit_ids(pages[1]) == hit_ids(search(loaded, sort="date", size=50))

    def test_paging_by_relevance_does_not_repeat(self, loaded: Store) -> None:
        query = "market OR attack OR aleppo OR note"
        everything = hit_ids(search(loaded, query, size=50))
        paged = [i for n in (1, 2, 3, 4) for i in hit_ids(search(loaded, query, page=n, size=2))]
        assert sorted(paged) == sorted(everything) and len(set(paged)) == len(paged)

    def test_facets_count_articles_over_all_matches(self, loaded: Store) -> None:
        page = search(loaded, "aleppo OR market", size=1)
        assert page.total == 5 and len(page.hits) == 1
        assert facet_map(page.facets.sources) == {"Reuters": 3, "BBC": 1}
        assert facet_map(page.facets.months) == {"2017-04": 2, "2016-09": 1, "2015-01": 1}
        assert [f.value for f in page.facets.months] == sorted(f.value for f in page.facets.months)
        entities = {f.value: f for f in page.facets.entities}
        assert entities["aleppo"].count == 3 and entities["maaret al-numan"].count == 2
        assert (entities["aleppo"].name, entities["aleppo"].label) == ("Aleppo", "GPE")
        counts = [f.count for f in page.facets.entities]
        assert counts == sorted(counts, reverse=True)

    def test_sentence_level_facets_count_articles(self, loaded: Store) -> None:
        page = search(loaded, "market", level="sentence", size=1)
        assert page.total == 4
        assert facet_map(page.facets.sources) == {"Reuters": 1, "BBC": 1}

    def test_facets_respect_filters_and_can_be_skipped(self, loaded: Store) -> None:
        page = search(loaded, filters=Filters(sources=("Reuters",)))
        assert facet_map(page.facets.sources) == {"Reuters": 3}
        page = search(loaded, "market", facets=False)
        assert page.facets.sources == [] and page.facets.entities == [] and page.facets.months == []

    # --- catalogue -----------------------------------------------------------------

    def test_entities_by_prefix(self, loaded: Store) -> None:
        [maaret] = loaded.entities("maa")
        assert (maaret.key, maaret.name, maaret.label, maaret.articles) == (
            "maaret al-numan", "Maaret al-Numan", "GPE", 2)
        assert [e.key for e in loaded.entities("MAARET AL")] == ["maaret al-numan"]
        assert {e.key for e in loaded.entities("russ")} == {"russian", "russia"}
        assert loaded.entities("russ")[0].key == "russian"  # 2 articles before 1

    def test_entities_by_name_prefix(self, loaded: Store) -> None:
        assert [e.key for e in loaded.entities("Syrian Obs")] == ["syrian observatory"]

    def test_entities_label_and_limit(self, loaded: Store) -> None:
        assert {e.key for e in loaded.entities(label="ORG")} == {"syrian observatory", "united nations"}
        top = loaded.entities(limit=2)
        assert len(top) == 2 and top[0].key == "aleppo" and top[0].articles == 3
        everything = loaded.entities(limit=100)
        assert [e.articles for e in everything] == sorted((e.articles for e in everything), reverse=True)

    def test_entities_prefix_is_not_a_pattern(self, loaded: Store) -> None:
        assert loaded.entities("%") == [] and loaded.entities("_") == [] and loaded.entities("a%") == []

    def test_sources(self, loaded: Store) -> None:
        sources = loaded.sources()
        assert [(s.source, s.articles) for s in sources][0] == ("Reuters", 3)
        by_name = {s.source: s for s in sources}
        assert set(by_name) == {"Reuters", "BBC", "Al Jazeera"}
        assert (by_name["Reuters"].first_published, by_name["Reuters"].last_published) == (
            date(2015, 1, 10), date(2017, 4, 5))

    # --- claim lookup candidates ----------------------------------------------------

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

    def test_lookup_ranks_the_same_reports_on_every_store(self, loaded: Store) -> None:
        """The whole lookup after the claim's analysis (candidates from this
        store, features, both scoring stages, grouping, annotations): every
        adapter must give the same reports in the same order with the same
        scores, since the stores only propose candidates and return sentences.
        The claim is the fixture's own facts (no spaCy, no embedder): the
        Reuters market report's words, figure and entities, and a vector along
        the axis both market reports share."""
        text = "Russian jets struck a vegetable market in Maaret al-Numan, killing 20 people"
        entities = [EntityMention(name, label, key, text.index(name), text.index(name) + len(name))
                    for name, label, key in (RUSSIAN, MAARET)]
        claim = lookup._prepared(text, [], entities, [killed(20, "20 people")], nlp.key_terms(text),
                                 unit((MARKET_AXIS, 1.0))[None, :])
        candidates = lookup.score(lookup.candidate_sets(loaded, [claim], Filters())[0])
        reports = lookup.reports_for(candidates, limit=5)
        ids = [r.article_id for r in reports]
        assert ids[:2] == [MARKET_REUTERS, MARKET_BBC], [(r.article_id, r.score) for r in reports]
        reuters, bbc = reports[0], reports[1]
        assert reuters.score > 0.5 > max((r.score for r in reports[2:]), default=0.0)
        assert reuters.missing_entities == [] and bbc.missing_entities == []
        same = [(qa.quantity.value, qa.agreement.value) for s in reuters.sentences for qa in s.quantities]
        assert (20.0, "same") in same
        other = [(qa.quantity.value, qa.agreement.value) for s in bbc.sentences for qa in s.quantities]
        assert (23.0, "different") in other
        # Everything the lookup computed comes from the store's answers: the same
        # candidate set scores identically when computed again.
        again = lookup.score(lookup.candidate_sets(loaded, [claim], Filters())[0])
        np.testing.assert_allclose(again.article_scores, candidates.article_scores)

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

    # --- rebuild ---------------------------------------------------------------------

    def test_rebuild_swaps_in_new_data(self, loaded: Store) -> None:
        fresh_articles = [extra_article("new-1", "zeppelin"), extra_article("new-2", "balloon", index=21)]
        with loaded.rebuild() as fresh:
            assert fresh.count_articles() == 0
            list(fresh.write_articles(fresh_articles))
            assert loaded.count_articles() == len(ALL_IDS)  # not yet visible
        assert loaded.count_articles() == 2
        assert search(loaded, "market").total == 0
        assert hit_ids(search(loaded, "zeppelin")) == ["new-1"]
        with pytest.raises(ArticleNotFound):
            loaded.get_article(MARKET_REUTERS)
        [found] = loaded.vector_candidates(vector_of(MARKET_REUTERS, 1)[None, :], Filters(), 10)
        assert {c.ref.article_id for c in found} <= {"new-1", "new-2"}
        [found] = loaded.vector_candidates(fresh_articles[1].sentences[1].vector[None, :], Filters(), 1)
        assert found[0].ref == SentenceRef("new-2", 1)
        assert [s.source for s in loaded.sources()] == ["AFP"]

    def test_rebuild_error_keeps_old_data(self, loaded: Store) -> None:
        with pytest.raises(RuntimeError, match="indexer failed"):
            with loaded.rebuild() as fresh:
                list(fresh.write_articles([extra_article("new-1", "zeppelin")]))
                raise RuntimeError("indexer failed")
        assert loaded.count_articles() == len(ALL_IDS)
        assert search(loaded, "zeppelin").total == 0
        assert set(hit_ids(search(loaded, "market"))) == {MARKET_REUTERS, MARKET_BBC}
        [found] = loaded.vector_candidates(vector_of(CONVOY, 1)[None, :], Filters(), 1)
        assert found[0].ref == SentenceRef(CONVOY, 1)

    def test_writes_after_rebuild(self, loaded: Store) -> None:
        with loaded.rebuild() as fresh:
            list(fresh.write_articles([extra_article("new-1", "zeppelin")]))
        list(loaded.write_articles([extra_article("new-2", "balloon", index=21)]))
        assert loaded.count_articles() == 2
        loaded.delete_article("new-1")
        assert [h.article_id for h in search(loaded).hits] == ["new-2"]

