"""Store contract, the search read model: query syntax, levels, snippets,
filters, sort, paging and facets of ``Store.search``."""

from __future__ import annotations

from datetime import date

import pytest

from claimlookup.model import Filters, ParsedQuery, SearchRequest, Term
from claimlookup.store import Store

from .base import ALL_IDS, TAG, ContractBase, facet_map, hit_ids, marked_words, search
from .fixtures import CONVOY, MARKET_BBC, MARKET_REUTERS, MARKUP, SARIN, UNDATED


class SearchContract(ContractBase):
    """``search``: the query syntax (user text is always plain text),
    article and sentence levels, escaped snippets, listing, filters, sort,
    paging and facets."""

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

    def test_empty_query_lists_every_article(self, loaded: Store) -> None:
        page = search(loaded, size=50)
        assert page.total == len(ALL_IDS)
        assert set(hit_ids(page)) == ALL_IDS

    def test_filter_sources(self, loaded: Store) -> None:
        assert set(hit_ids(search(loaded, filters=Filters(sources=("BBC", "Al Jazeera"))))) == {MARKET_BBC, SARIN}
        assert hit_ids(search(loaded, "market", filters=Filters(sources=("BBC",)))) == [MARKET_BBC]
        assert search(loaded, filters=Filters(sources=("Nobody",))).total == 0
        # outlet names match whatever their case
        assert hit_ids(search(loaded, "market", filters=Filters(sources=("bbc",)))) == [MARKET_BBC]

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
