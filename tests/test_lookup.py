"""Claim lookup end to end on a real SQLite store filled through the real
pipeline (real spaCy, real embedder): the seed scenario, short input,
filters, explain, scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from claimlookup import fusion, lookup
from claimlookup.lookup import ClaimTooShort, LookupRequest, find_reports, scan
from claimlookup.lookup.page import with_context
from claimlookup.model import Agreement, ClaimStance, Filters, Frame
from claimlookup.pipeline import ArticleRecord, Origin, ingest
from claimlookup.store import ArticleNotFound, Store, open_store

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
CLAIM = "A Russian airstrike on a market in Maaret al-Numan killed 20 people"
MARKET = "seed-000"  # 000_358fc2682760c67c.txt: the Maaret al-Numan market strike, 20 vs 27 killed
IDLIB = "seed-001"  # 001_bbb529f6879eddb8.txt: a strike on Idlib city, 23 killed

pytestmark = pytest.mark.slow


COPY = "copy-000"  # seed 000 re-posted a day later by another outlet


def seed_records() -> list[ArticleRecord]:
    """The five seeds (dated 13 January 2020, no source) and a later copy of seed 000."""
    records = [ArticleRecord(body=p.read_text(encoding="utf-8"), id=f"seed-{p.stem[:3]}",
                             published=date(2020, 1, 13), origin=Origin(str(p)))
               for p in sorted(SEEDS.glob("*.txt"))]
    market = (SEEDS / "000_358fc2682760c67c.txt").read_text(encoding="utf-8")
    records.append(ArticleRecord(body=market, id=COPY, source="Syndicated Daily",
                                 published=date(2020, 1, 14), origin=Origin("copy")))
    return records


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("lookup") / "store.db"
    store = open_store(f"sqlite:///{path}")
    store.setup()
    summary = ingest(store, seed_records())
    assert summary.new == 6, summary.problems
    yield store
    store.close()


@pytest.fixture(scope="module")
def market(store: Store) -> lookup.LookupResult:
    return find_reports(store, LookupRequest(CLAIM, explain=True))


def _report(result: lookup.LookupResult, article_id: str) -> lookup.Report:
    return next(r for r in result.reports if r.article_id == article_id)


def test_the_market_article_is_the_top_report(market: lookup.LookupResult) -> None:
    assert market.reports[0].article_id == MARKET
    assert [c.article_id for c in market.reports[0].copies] == [COPY]  # the later copy folds under it
    assert COPY not in [r.article_id for r in market.reports]
    assert market.reports[0].score >= 0.5
    assert market.reports[0].score == max(r.score for r in market.reports)
    assert all(0.0 <= r.score <= 1.0 for r in market.reports)


def test_claim_view_has_entities_and_the_figure(market: lookup.LookupResult) -> None:
    assert "maaret al numan" in {e.key for e in market.claim.entities}
    assert [(q.value, q.counts, q.event) for q in market.claim.quantities] == [(20.0, "people", "killed")]


def test_white_helmets_sentence_attributes_the_same_figure(market: lookup.LookupResult) -> None:
    report = _report(market, MARKET)
    sentence = next(s for s in report.sentences if "White Helmets" in s.text and "20 people" in s.text)
    assert sentence.frame is Frame.ATTRIBUTES
    assert "White Helmets" in (sentence.attributed_to or "")
    killed = [qa for qa in sentence.quantities if qa.quantity.event == "killed"]
    assert [(qa.quantity.value, qa.agreement) for qa in killed] == [(20.0, Agreement.SAME)]
    assert "<mark>" in sentence.highlighted


def test_observatory_sentence_attributes_a_different_figure(market: lookup.LookupResult) -> None:
    report = _report(market, MARKET)
    sentence = next(s for s in report.sentences if "Syrian Observatory" in s.text)
    assert sentence.frame is Frame.ATTRIBUTES
    killed = [qa for qa in sentence.quantities if qa.quantity.value == 27.0]
    assert [qa.agreement for qa in killed] == [Agreement.DIFFERENT]


def test_defence_ministry_sentences_deny(market: lookup.LookupResult) -> None:
    report = _report(market, MARKET)
    ministry = [s for s in report.sentences if "Ministry of Defense" in s.text or "defense ministry" in s.text]
    assert ministry, [s.text for s in report.sentences]
    assert all(s.frame is Frame.DENIES for s in ministry)


def test_figures_table_lists_both_tolls_with_outlets(market: lookup.LookupResult) -> None:
    killed = next(r for r in market.summary.figures if r.event == "killed" and r.counts == "people")
    outlets = {v.value: v.outlets for v in killed.values}
    # Seeds have no source (the id stands in); the copy's outlet counts too.
    assert {MARKET, "Syndicated Daily"} <= set(outlets[20.0]) and MARKET in outlets[27.0]


def test_other_strike_ranks_below_and_misses_the_town(market: lookup.LookupResult) -> None:
    ids = [r.article_id for r in market.reports]
    assert IDLIB in ids and ids.index(IDLIB) > ids.index(MARKET)
    idlib = _report(market, IDLIB)
    assert "maaret al numan" in idlib.missing_entities
    assert "maaret al numan" not in idlib.shared_entities
    assert idlib.score < market.reports[0].score


def test_summary_counts_the_likely_reports(market: lookup.LookupResult) -> None:
    summary = market.summary
    likely = [r for r in market.reports if r.score >= lookup.SUMMARY_MIN_SCORE]
    assert summary.reports == len(likely) >= 1
    # seed 000 has no source or URL: it counts as an outlet of its own (by its id), its copy by its source
    from claimlookup.lookup.reports import outlet_names
    assert summary.outlets == len({n for r in likely for n in outlet_names(r)}) >= 2
    assert sum(summary.stances.values()) == summary.reports
    assert set(summary.stances) == {s.value for s in ClaimStance}


def test_explain_gives_features_and_contributions(market: lookup.LookupResult) -> None:
    sentence = market.reports[0].sentences[0].evidence
    assert sentence is not None
    news = {f"news_{n}" for n in lookup.NEWS_FEATURES}  # the claim gives a figure: the news model applies
    assert set(sentence["features"]) == set(lookup.SENTENCE_FEATURES) | news
    assert set(sentence["contributions"]) == set(lookup.SENTENCE_FEATURES) | news | {"bias", "news_bias"}
    probabilities = sentence["probabilities"]
    assert market.reports[0].sentences[0].score == pytest.approx(1.0 - probabilities["unrelated"], abs=1e-3)
    article = market.reports[0].evidence
    assert article is not None and set(article["features"]) == set(lookup.SCORE_FEATURES)
    # the report's score is the calibration over its features: the contributions add up to its logit
    assert float(fusion.sigmoid(np.array([sum(article["contributions"].values())]))[0]) == pytest.approx(
        market.reports[0].score, abs=2e-3)
    ranking = article["ranking"]
    assert set(ranking["features"]) == set(lookup.ARTICLE_FEATURES) | news
    assert 0.0 < ranking["features"]["coverage_article"] <= 1.0
    assert ranking["features"]["news_figure_same"] == 1.0


def test_without_explain_there_is_no_evidence(store: Store) -> None:
    result = find_reports(store, LookupRequest(CLAIM, limit=2))
    assert len(result.reports) <= 2
    assert all(s.evidence is None for r in result.reports for s in r.sentences)
    assert all(r.evidence is None for r in result.reports)


@pytest.mark.parametrize("text", ["Russia bombs", "   ", "the of and a", "#Idlib 😡 https://t.co/x"])
def test_too_short_claims_are_refused(store: Store, text: str) -> None:
    with pytest.raises(ClaimTooShort):
        find_reports(store, LookupRequest(text))


def test_tweet_is_cleaned_before_lookup(store: Store) -> None:
    tweet = ("Russian airstrike on a market in #MaaretAlNuman killed 20 people https://t.co/abc "
             "— Someone (@someone) January 6, 2020")
    result = find_reports(store, LookupRequest(tweet))
    assert "https" not in result.claim.text and "@someone" not in result.claim.text
    assert result.reports[0].article_id == MARKET


def test_exclude_articles_filter_excludes_the_copies_too(store: Store) -> None:
    result = find_reports(store, LookupRequest(CLAIM, filters=Filters(exclude_articles=(MARKET,))))
    listed = {i for r in result.reports for i in (r.article_id, *(c.article_id for c in r.copies))}
    assert result.reports and not listed & {MARKET, COPY}


def test_min_score_filters_reports(store: Store) -> None:
    result = find_reports(store, LookupRequest(CLAIM, min_score=0.5))
    assert result.reports and all(r.score >= 0.5 for r in result.reports)


def test_out_of_range_limit_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        find_reports(store, LookupRequest(CLAIM, limit=0))


# --- scan ---------------------------------------------------------------------------------


def test_scan_of_an_indexed_article_excludes_itself_and_its_copies(store: Store) -> None:
    result = scan(store, article_id=MARKET, min_score=0.0)
    assert result.sentences
    assert all(s.reason in ("figure", "reporting verb", "actors") for s in result.sentences)
    reported = {i for s in result.sentences for r in s.reports
                for i in (r.article_id, *(c.article_id for c in r.copies))}
    assert reported and not reported & {MARKET, COPY}
    white_helmets = next(s for s in result.sentences if "White Helmets" in s.text and "20 people" in s.text)
    assert white_helmets.reason == "figure"


def test_scan_of_an_indexed_pages_text_never_reports_the_page(store: Store) -> None:
    """The browser extension sends the text of the page it shows; when that page
    is indexed, it and its copies are not its own reports (8 of 9 were)."""
    text = (SEEDS / "000_358fc2682760c67c.txt").read_text(encoding="utf-8")
    result = scan(store, text=text, min_score=0.0)
    assert [s for s in result.sentences if s.reason == "figure"]
    reported = {i for s in result.sentences for r in s.reports
                for i in (r.article_id, *(c.article_id for c in r.copies))}
    assert reported and not reported & {MARKET, COPY}
    # the same text read elsewhere (another seed's text) still reports seed 000
    other = scan(store, text="Russian jets struck a market in Maaret al-Numan, killing 20 people, the White Helmets "
                             "said.", min_score=0.0)
    assert any(r.article_id in (MARKET, COPY) for s in other.sentences for r in s.reports)


@pytest.mark.parametrize("limit, margin", [(20, 20), (4, 3), (4, 0)])
def test_a_pages_candidates_without_its_own_articles_in_one_search(store: Store, limit: int, margin: int) -> None:
    """A scanned page's candidates are searched once, with a margin, and the
    page's own indexed articles dropped from that answer: the same candidate
    sets, features included, as searching, finding them, and searching again
    without them (the scan before). With no margin (4, 0) every full list that
    loses a hit falls back to the second search; the answer is the same."""
    from dataclasses import replace

    from claimlookup.lookup import features, service
    from claimlookup.lookup.page import choose_sentences, read_page, sentence_context

    page = read_page((SEEDS / "000_358fc2682760c67c.txt").read_text(encoding="utf-8"))
    worthy = choose_sentences(page, service.MAX_SCAN_CLAIMS).worthy
    claims = service._scan_claims(worthy, [sentence_context(s, page) for s, _ in worthy], page.title)
    first = features.candidate_sets(store, claims, Filters(), limit=limit)
    own = service._page_articles((s for c in first for s in c.sentences), page)
    assert MARKET in own
    again = features.candidate_sets(store, claims, replace(Filters(), exclude_articles=tuple(sorted(own))), limit=limit)
    once, dropped = features.candidate_sets_without(store, claims, Filters(), limit,
                                                    lambda found: service._page_articles(found, page), margin)
    assert dropped == own
    assert len(once) == len(again) == len(claims)
    for a, b in zip(again, once, strict=True):
        assert [s.ref for s in a.sentences] == [s.ref for s in b.sentences]
        assert np.array_equal(a.features, b.features)
        assert not {s.ref.article_id for s in b.sentences} & own


def test_a_scan_shared_over_threads_answers_as_one_thread_does(store: Store,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan's claims (and each call's relation pairs) are judged by the
    calling thread and idle helpers (claimlookup.parallel): same answer."""
    from claimlookup.lookup.judging import get_relation_model

    text = (SEEDS / "000_358fc2682760c67c.txt").read_text(encoding="utf-8")
    model = get_relation_model()
    monkeypatch.setenv("CLAIMLOOKUP_RELATION_THREADS", "1")
    monkeypatch.setattr(model, "parallel", 1)
    alone = scan(store, text=text, min_score=0.0)
    monkeypatch.setenv("CLAIMLOOKUP_RELATION_THREADS", "3")
    monkeypatch.setattr(model, "parallel", 3)
    shared = scan(store, text=text, min_score=0.0)
    assert len(alone.sentences) > 3 and shared == alone


def test_a_short_denial_is_check_worthy(store: Store) -> None:
    """The README's example, 7 words, was never scanned under the 8-word rule."""
    result = scan(store, text="Russia denied its planes had bombed Idlib.")
    assert [s.reason for s in result.sentences] == ["reporting verb"]


def test_scan_needs_exactly_one_input(store: Store) -> None:
    with pytest.raises(ValueError):
        scan(store)
    with pytest.raises(ValueError):
        scan(store, text="x", article_id=MARKET)
    with pytest.raises(ArticleNotFound):
        scan(store, article_id="no-such-article")


def test_scan_embeds_only_check_worthy_sentences_in_one_batch(store: Store,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real = lookup._embed

    def counting(texts: list[str]):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(lookup.claim, "_embed", counting)
    text = (SEEDS / "001_bbb529f6879eddb8.txt").read_text(encoding="utf-8")
    result = scan(store, text=text)
    assert len(calls) == 1
    # each as looked up (with its context places), then the page's headline
    # (its vector is the copy rule's) unless it is one of them; "Share" above it is furniture
    title = "Russian Federation denies it conducted fatal Idlib airstrikes"
    looked_up = [with_context(s.text, s.context) for s in result.sentences]
    assert any(s.context for s in result.sentences)
    assert calls[0] == (looked_up if title in looked_up else [*looked_up, title])
    calls.clear()
    scan(store, article_id=IDLIB)
    assert calls == []  # an indexed article's stored vectors are reused
