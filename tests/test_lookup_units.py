"""Lookup parts that need no model: claim normalisation, figure agreement,
copies folding, grouping, reports, the figures table, check-worthiness."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from claimlookup import lookup
from claimlookup.lookup import (
    CandidateSet,
    Copy,
    FigureValue,
    PreparedClaim,
    QuantityAgreement,
    Report,
    ReportSentence,
    ScoredCandidates,
)
from claimlookup.model import (
    Agreement,
    ClaimStance,
    EntityMention,
    Frame,
    Quantity,
    Sentence,
    SentenceRef,
    StoredSentence,
)

# --- normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("Hurricane Dorian washed up bricks of cocaine on Florida’s coast pic.twitter.com/ApEtNvR7tb "
     "— NowThis (@nowthisnews) September 10, 2019",
     "Hurricane Dorian washed up bricks of cocaine on Florida’s coast (NowThis)"),
    ("CBC deletes Trump from Home Alone 2 #DefundTheCBChttps://t.co/CsHG8R9cHp — Brad Trost 🇨🇦 "
     "(@BradTrostCPC) December 26, 2019",
     "CBC deletes Trump from Home Alone 2 Defund The CBC (Brad Trost)"),
    ("@user1 @user2 Nancy Pelosi said it via @someone", "Nancy Pelosi said it"),
    ("How are butterflies surviving the #AustralianFires? 😍😍", "How are butterflies surviving the Australian Fires?"),
    ("Russian jets &amp; helicopters struck the market", "Russian jets & helicopters struck the market"),
    ("Plain news sentences pass through unchanged.", "Plain news sentences pass through unchanged."),
    ("Background: https://t.co/6HDggoMSi2pic.twitter.com/zv3zKmt2mB — Andy Shain (@AndyShain) November 19, 2018",
     "Background: (Andy Shain)"),
    ("Right? — Marco Rubio (@marcorubio) July 25, 2019 Senator @marcorubio will you delete this tweet?",
     "Right? (Marco Rubio) Senator marcorubio will you delete this tweet?"),
    ("Polls look bad for Obama — (@someone) May 1, 2012", "Polls look bad for Obama"),
])
def test_normalise_claim(raw: str, expected: str) -> None:
    assert lookup.normalise_claim(raw) == expected


def test_a_dash_inside_a_sentence_is_not_a_tweet_trailer() -> None:
    text = "The ministry — which denied the strike — said 20 people died"
    assert lookup.normalise_claim(text) == text


# --- figures ---------------------------------------------------------------------------


def q(value: float, counts: str = "people", event: str = "killed", qualifier: str = "exact",
      scope: str = "event") -> Quantity:
    return Quantity(value, f"{value:g} {counts}", counts, event, qualifier, scope=scope)


@pytest.mark.parametrize(("claim", "report", "same"), [
    (q(20), q(20), True),
    (q(20), q(27), False),
    (q(20, qualifier="approx"), q(22), True),       # within 20 % of the larger
    (q(20, qualifier="approx"), q(26), False),      # 23 % off
    (q(24, qualifier="approx"), q(20, qualifier="exact"), True),  # "around two dozen" vs 20
    (q(20, qualifier="at_least"), q(27), True),     # "at least 20" allows 27
    (q(20, qualifier="at_least"), q(12), False),
    (q(30, qualifier="at_most"), q(27), True),
    (q(20), q(6, qualifier="at_least"), False),     # a report's "at least six" is not the claim's 20
    (q(20), q(18, qualifier="at_least"), True),     # ... but "at least 18" is within the tolerance
    (q(20), q(30, qualifier="at_most"), False),
    (q(24, qualifier="vague"), q(40), True),        # "dozens"
    (q(24, qualifier="vague"), q(300), False),
])
def test_figures_agree(claim: Quantity, report: Quantity, same: bool) -> None:
    assert lookup.figures_agree(claim, report) is same


def test_agreement_compares_only_the_same_counted_thing() -> None:
    claim = [q(20), q(50, event="wounded")]
    assert lookup.agreement(claim, q(20)) is Agreement.SAME
    assert lookup.agreement(claim, q(27)) is Agreement.DIFFERENT
    assert lookup.agreement(claim, q(50, event="wounded")) is Agreement.SAME
    assert lookup.agreement(claim, q(45, event="wounded")) is Agreement.DIFFERENT
    assert lookup.agreement(claim, q(3, counts="hospitals", event="")) is Agreement.ABSENT
    assert lookup.agreement([], q(20)) is Agreement.ABSENT


PEOPLE_20 = [q(20)]
RANGE_20_30 = [q(20, qualifier="at_least"), q(30, qualifier="at_most")]  # "20 to 30 people killed"
WITH_CHILDREN = [q(72), q(9, counts="children")]  # "72 people including nine children were killed"


@pytest.mark.parametrize(("claim", "report", "expected"), [
    (PEOPLE_20, q(11, counts="civilians"), Agreement.PART),        # 11 civilians of 20 people
    (PEOPLE_20, q(20, counts="civilians"), Agreement.PART),        # all of them civilians
    (PEOPLE_20, q(9, counts="children"), Agreement.PART),          # children are civilians are people
    (PEOPLE_20, q(3, counts="soldiers"), Agreement.PART),          # soldiers are fighters are people
    (PEOPLE_20, q(27, counts="civilians"), Agreement.DIFFERENT),   # a part bigger than its whole
    (PEOPLE_20, q(21, counts="civilians", qualifier="at_least"), Agreement.PART),  # agrees within the tolerance
    ([q(11, counts="civilians")], q(20), Agreement.WHOLE),         # the claim's 11 are among the report's 20
    ([q(11, counts="civilians")], q(8), Agreement.DIFFERENT),      # 8 people cannot hold 11 civilians
    ([q(20, counts="civilians")], q(45, counts="militants"), Agreement.ABSENT),  # fighters are not civilians
    ([q(20, counts="children")], q(5, counts="women"), Agreement.ABSENT),        # neither is part of the other
    ([q(20, counts="civilians")], q(5, counts="children", event="wounded"), Agreement.ABSENT),
    (PEOPLE_20, q(50, event="casualties"), Agreement.WHOLE),       # the killed are part of the casualties
    (PEOPLE_20, q(15, event="casualties"), Agreement.DIFFERENT),
    ([q(50, event="casualties")], q(11, counts="civilians"), Agreement.PART),    # part in thing and in event
    (PEOPLE_20, q(30, counts="civilians", event="casualties"), Agreement.ABSENT),  # a part and a whole at once
    ([q(20, qualifier="at_least")], q(25, counts="civilians"), Agreement.PART),  # "at least 20" allows 30
    ([q(20, qualifier="at_least")], q(35, counts="civilians"), Agreement.DIFFERENT),
    (RANGE_20_30, q(25, counts="civilians"), Agreement.PART),
    (WITH_CHILDREN, q(11, counts="civilians"), Agreement.PART),     # within 72 people, above 9 children
    (WITH_CHILDREN, q(8, counts="civilians"), Agreement.DIFFERENT),  # fewer civilians than children
    ([q(24, qualifier="vague")], q(40, counts="civilians"), Agreement.PART),  # "dozens" allow up to 48
    (PEOPLE_20, q(2, counts="families"), Agreement.ABSENT),        # families are households, not people
    (PEOPLE_20, q(3, counts="hospitals", event=""), Agreement.ABSENT),
    ([q(3, counts="buildings", event="")], q(1, counts="hospitals", event=""), Agreement.PART),
])
def test_related_things_compare_as_part_or_whole(claim: list[Quantity], report: Quantity,
                                                 expected: Agreement) -> None:
    assert lookup.agreement(claim, report) is expected


def test_same_thing_agreement_ignores_related_things() -> None:
    """The ranking's figure features were fitted on this: related figures are no evidence there."""
    assert lookup.same_thing_agreement(PEOPLE_20, q(11, counts="civilians")) is Agreement.ABSENT
    assert lookup.same_thing_agreement(PEOPLE_20, q(27, counts="civilians")) is Agreement.ABSENT
    assert lookup.same_thing_agreement(PEOPLE_20, q(27)) is Agreement.DIFFERENT


def test_a_cumulative_toll_never_compares_with_an_event_figure() -> None:
    war = q(320000, qualifier="at_least", scope="cumulative")
    assert lookup.agreement(PEOPLE_20, war) is Agreement.ABSENT
    assert lookup.agreement(PEOPLE_20, q(20, scope="cumulative")) is Agreement.ABSENT  # not even an equal value
    assert lookup.agreement(PEOPLE_20, q(9, counts="children", scope="cumulative")) is Agreement.ABSENT
    assert not lookup.comparable(PEOPLE_20[0], war) and lookup.relation(PEOPLE_20[0], war) is None
    claim = [q(300000, qualifier="at_least", scope="cumulative")]  # "the war has killed at least 300,000"
    assert lookup.agreement(claim, war) is Agreement.SAME
    assert lookup.agreement(claim, q(20)) is Agreement.ABSENT


def test_every_thing_in_the_hierarchy_is_a_counted_thing_and_it_has_no_cycle() -> None:
    from claimlookup.nlp import COUNTED, EVENTS

    things = set(COUNTED.values())
    assert set(lookup.PART_OF) <= things and set(lookup.PART_OF.values()) <= things
    assert set(lookup.EVENT_PART_OF) | set(lookup.EVENT_PART_OF.values()) <= set(EVENTS.values())
    for thing in lookup.PART_OF:
        seen = {thing}
        while thing in lookup.PART_OF:
            thing = lookup.PART_OF[thing]
            assert thing not in seen
            seen.add(thing)


# --- candidates, grouping, copies ---------------------------------------------------------


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=8).astype(np.float32)
    return v / np.linalg.norm(v)


def stored(article: str, position: int, text: str, title: str, vector: np.ndarray,
           published: date | None = None, source: str | None = None, **sentence) -> StoredSentence:
    return StoredSentence(SentenceRef(article, position),
                          Sentence(position, text, 0, len(text), vector=vector, **sentence),
                          title=title, source=source, published=published, url=None)


def claim(text: str = "Russian jets struck a market in Idlib killing 20 people",
          quantities: list[Quantity] | None = None) -> PreparedClaim:
    return PreparedClaim(text, [], [EntityMention("Idlib", "GPE", "idlib", 0, 5)], quantities or [q(20)],
                         [], np.zeros((1, 8), np.float32), {"russian": 2.0, "jet": 2.0, "strik": 1.5,
                                                             "market": 2.0, "idlib": 3.0, "kill": 1.0})


def candidate_set(rows: list[tuple[StoredSentence, float]]) -> ScoredCandidates:
    """Scored candidates; an article's score here is its best sentence's."""
    sentences = [s for s, _ in rows]
    rows_of: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        rows_of.setdefault(s.ref.article_id, []).append(i)
    scores = np.array([p for _, p in rows])
    candidates = CandidateSet(claim(), sentences, np.zeros((len(sentences), len(lookup.SENTENCE_FEATURES))),
                              articles=list(rows_of), article_rows=list(rows_of.values()))
    p = np.clip(scores, 1e-6, 1 - 1e-6)
    return ScoredCandidates(candidates, logits=np.log(p / (1 - p)), scores=scores,
                            article_features=np.zeros((len(rows_of), len(lookup.ARTICLE_FEATURES))),
                            article_scores=np.array([scores[r].max() for r in rows_of.values()]),
                            news_features=np.zeros((len(sentences), len(lookup.NEWS_FEATURES))),
                            article_news_features=np.zeros((len(rows_of), len(lookup.NEWS_FEATURES))))


def test_groups_are_articles_best_first_with_best_sentence_first() -> None:
    cs = candidate_set([
        (stored("a", 3, "a three", "A", _unit(1)), 0.4),
        (stored("b", 1, "b one", "B", _unit(2)), 0.7),
        (stored("a", 1, "a one", "A", _unit(1)), 0.9),
    ])
    groups = lookup.group_by_article(cs)
    assert [g.article_id for g in groups] == ["a", "b"]
    assert groups[0].rows == [2, 0] and groups[0].score == pytest.approx(0.9)


def test_copies_fold_under_the_earliest_and_keep_the_best_score() -> None:
    title_vector = _unit(7)
    cs = candidate_set([
        (stored("late", 0, "Jets strike Idlib market", "Jets strike Idlib market", title_vector,
                published=date(2019, 7, 23), source="Wire B"), 0.9),
        (stored("early", 0, "Jets strike Idlib market!", "Jets strike Idlib market!", title_vector,
                published=date(2019, 7, 22), source="Wire A"), 0.8),
        (stored("undated", 0, "JETS STRIKE IDLIB MARKET", "JETS STRIKE IDLIB MARKET", title_vector), 0.85),
        (stored("other", 0, "Another story entirely", "Another story entirely", _unit(8)), 0.5),
    ])
    groups = lookup.fold_copies(cs, lookup.group_by_article(cs))
    assert [g.article_id for g in groups] == ["early", "other"]
    assert groups[0].score == pytest.approx(0.9)
    assert sorted(g.article_id for g in groups[0].copies) == ["late", "undated"]


def test_same_best_sentence_with_close_titles_is_a_copy_but_not_with_distant_titles() -> None:
    text = "Russian jets struck the market in Idlib, killing 20 people."
    t1 = _unit(3)
    t2 = (t1 + 0.05 * _unit(4)) / np.linalg.norm(t1 + 0.05 * _unit(4))
    cs = candidate_set([
        (stored("x", 2, text, "Syria: market strike", t1), 0.9),
        (stored("x", 0, "Syria: market strike", "Syria: market strike", t1), 0.2),
        (stored("y", 5, text, "Idlib market hit by jets", t2), 0.88),
        (stored("y", 0, "Idlib market hit by jets", "Idlib market hit by jets", t2), 0.2),
        (stored("z", 4, text, "A very different page", _unit(9)), 0.87),
        (stored("z", 0, "A very different page", "A very different page", _unit(9)), 0.1),
    ])
    groups = lookup.fold_copies(cs, lookup.group_by_article(cs))
    assert [(g.article_id, [c.article_id for c in g.copies]) for g in groups] == [("x", ["y"]), ("z", [])]


def test_report_shows_strong_sentences_with_stance_and_figures() -> None:
    cs = candidate_set([
        (stored("a", 2, "The Observatory said 27 people were killed in Idlib", "Idlib strike", _unit(1),
                source="Outlet", stance=Frame.ATTRIBUTES, speaker="the Observatory",
                quantities=[q(27)], entities=[EntityMention("Idlib", "GPE", "idlib", 43, 48)]), 0.8),
        (stored("a", 1, "Russian jets struck a market", "Idlib strike", _unit(1), source="Outlet"), 0.6),
        (stored("a", 7, "The weather was fine", "Idlib strike", _unit(1), source="Outlet"), 0.01),
    ])
    group = lookup.group_by_article(cs)[0]
    report = lookup.build_report(cs, group)
    assert [s.position for s in report.sentences] == [2, 1]  # 0.01 is below SENTENCE_FLOOR
    first = report.sentences[0]
    assert first.frame is Frame.ATTRIBUTES and first.attributed_to == "the Observatory"
    assert first.stance in set(ClaimStance) and report.stance in set(ClaimStance)
    assert 0.0 <= report.score <= 1.0 and all(0.0 <= s.score <= 1.0 for s in report.sentences)
    assert first.quantities == [QuantityAgreement(q(27), Agreement.DIFFERENT)]
    assert report.shared_entities == ["idlib"] and report.missing_entities == []
    assert first.evidence is None


def test_report_shows_at_most_five_sentences_and_always_the_best() -> None:
    cs = candidate_set([(stored("a", i, f"sentence {i}", "A", _unit(1)), 0.5 - i / 100) for i in range(1, 9)])
    report = lookup.build_report(cs, lookup.group_by_article(cs)[0])
    assert [s.position for s in report.sentences] == [1, 2, 3, 4, 5]
    weak = candidate_set([(stored("b", 1, "only a weak one", "B", _unit(2)), 0.001)])
    assert [s.position for s in lookup.build_report(weak, lookup.group_by_article(weak)[0]).sentences] == [1]


def test_min_score_drops_reports_and_limit_cuts() -> None:
    texts = {"a": "Russian jets struck a market in Maaret al-Numan killing 20 people",
             "b": "An airstrike hit the vegetable market of Maaret al-Numan",
             "c": "The football club signed a new striker on Tuesday",
             "d": "Rain is expected across the north of England"}
    cs = candidate_set([(stored(a, 1, t, f"title {a}", _unit(i)), p)
                        for i, ((a, t), p) in enumerate(zip(texts.items(), [0.9, 0.6, 0.3, 0.2], strict=True))])
    every = lookup.reports_for(cs, limit=10)
    assert sorted(r.article_id for r in every) == ["a", "b", "c", "d"]
    keys = [lookup.order_key(g, j) for g, j in lookup.judged_groups(cs, 10)]
    assert keys == sorted(keys, reverse=True)  # report order: ranking and calibrated evidence together
    cut = 0.5 * (every[0].score + every[-1].score)
    kept = lookup.reports_for(cs, limit=10, min_score=cut)
    assert [r.article_id for r in kept] == [r.article_id for r in every if r.score >= cut]
    assert len(lookup.reports_for(cs, limit=3)) == 3  # judged: the 3 best by the ranking
    assert {r.article_id for r in lookup.reports_for(cs, limit=3)} == {"a", "b", "c"}


def test_highlight_escapes_html_and_marks_claim_words() -> None:
    out = lookup.highlight("Jets <b>strikes</b> the market & Idlib's square", {"strik", "market", "idlib"})
    assert out == ("Jets &lt;b&gt;<mark>strikes</mark>&lt;/b&gt; the <mark>market</mark> &amp; "
                   "<mark>Idlib&#x27;s</mark> square")


# --- summary ---------------------------------------------------------------------------------


def rs(stance: ClaimStance, *quantities: Quantity, score: float = 0.9) -> ReportSentence:
    return ReportSentence(1, "t", "t", score, stance, Frame.ASSERTS, None,
                          [QuantityAgreement(x, Agreement.ABSENT) for x in quantities])


def report(article_id: str, source: str | None, *sentences: ReportSentence,
           copies: tuple[Copy, ...] = ()) -> Report:
    return Report(article_id, "title", source, None, None, 0.9, sentences[0].stance, list(sentences), list(copies))


def test_an_article_without_a_source_is_named_by_its_host_else_its_id() -> None:
    from claimlookup.lookup.reports import outlet_name

    assert outlet_name("Reuters", "https://www.presstv.com/x", "a") == "Reuters"
    assert outlet_name(None, "https://www.presstv.com/Detail/1", "a") == "presstv.com"
    assert outlet_name(None, None, "h:f038") == "h:f038"


def test_summary_counts_reports_outlets_stances_and_figures() -> None:
    reports = [
        report("a", "Outlet A", rs(ClaimStance.SUPPORTS, q(20), q(50, event="wounded")),
               copies=(Copy("a2", "Outlet C", None, None),)),
        report("b", "Outlet B", rs(ClaimStance.SUPPORTS, q(27)), rs(ClaimStance.REFUTES),
               rs(ClaimStance.DISCUSSES, q(400), score=0.2)),  # not about the claim: not in the table
        report("c", "Outlet A", rs(ClaimStance.REFUTES, q(20))),
        report("d", None, rs(ClaimStance.DISCUSSES, q(3, counts="hospitals", event=""))),
    ]
    summary = lookup.summarise(reports, claim_quantities=[q(20)])
    assert summary.reports == 4 and summary.outlets == 4  # "d" has no source: an outlet of its own
    assert summary.stances == {"supports": 2, "refutes": 1, "discusses": 1}
    killed, *others = summary.figures
    assert (killed.counts, killed.event) == ("people", "killed")
    assert killed.values == [FigureValue(20.0, ["Outlet A", "Outlet C"]), FigureValue(27.0, ["Outlet B"])]
    assert {(r.counts, r.event) for r in others} == {("people", "wounded"), ("hospitals", "")}
    hospitals = next(r for r in others if r.counts == "hospitals")
    assert hospitals.values == [FigureValue(3.0, ["d"])]  # no source: the article id stands in


def test_figures_table_lists_related_things_next_and_cumulative_tolls_apart() -> None:
    reports = [
        report("a", "Outlet A", rs(ClaimStance.SUPPORTS, q(20), q(9, counts="children"))),
        report("b", "Outlet B", rs(ClaimStance.SUPPORTS, q(3, counts="hospitals", event=""),
                                   q(320000, qualifier="at_least", scope="cumulative"))),
        report("c", "Outlet C", rs(ClaimStance.SUPPORTS, q(3, counts="hospitals", event=""),
                                   q(20, scope="cumulative"))),
    ]
    rows = lookup.summarise(reports, claim_quantities=[q(20)]).figures
    assert [(r.counts, r.event, r.scope) for r in rows] == [
        ("people", "killed", "event"),  # the claim's thing
        ("children", "killed", "event"),  # a part of it
        ("hospitals", "", "event"),  # another thing, two outlets
        ("people", "killed", "cumulative"),  # the war's toll: its own row, last
    ]
    assert rows[0].values == [FigureValue(20.0, ["Outlet A"])]  # the cumulative 20 is not mixed in
    assert rows[-1].values == [FigureValue(20.0, ["Outlet C"]), FigureValue(320000.0, ["Outlet B"])]


def test_summary_leaves_out_reports_below_the_summary_score() -> None:
    likely = report("a", "Outlet A", rs(ClaimStance.SUPPORTS, q(20)))
    unlikely = replace(report("b", "Outlet B", rs(ClaimStance.REFUTES, q(3))), score=0.49)
    summary = lookup.summarise([likely, unlikely], claim_quantities=[q(20)])
    assert summary.reports == 1 and summary.outlets == 1
    assert summary.stances["refutes"] == 0
    assert [v.value for row in summary.figures for v in row.values] == [20.0]
    assert lookup.summarise([likely, unlikely], min_score=0.0).reports == 2


# --- check-worthiness ---------------------------------------------------------------------------


@pytest.mark.parametrize(("sentence", "reason"), [
    (Sentence(1, "The strike on the market killed 20 people on Monday", 0, 0, quantities=[q(20)]), "figure"),
    (Sentence(1, "The ministry said the planes were not flying over the city", 0, 0,
              stance=Frame.DENIES, speaker="the ministry"), "reporting verb"),
    (Sentence(1, "Turkey and Russia agreed a ceasefire for the province last week", 0, 0,
              entities=[EntityMention("Turkey", "GPE", "turkey", 0, 6),
                        EntityMention("Russia", "GPE", "russia", 11, 17)]), "actors"),
    (Sentence(1, "It was a long and very difficult week for everyone here", 0, 0), None),
    (Sentence(1, "Russia said 20 died", 0, 0, quantities=[q(20)], stance=Frame.ATTRIBUTES), None),  # short
])
def test_check_worthiness(sentence: Sentence, reason: str | None) -> None:
    assert lookup.check_worthiness(sentence) == reason


# --- caches -------------------------------------------------------------------------


def test_every_cache_is_declared_with_its_bound_and_cleared_by_clear_all() -> None:
    import claimlookup
    from claimlookup import caches, fusion

    package = Path(claimlookup.__file__).parent
    undeclared = [p.relative_to(package).as_posix() for p in sorted(package.rglob("*.py"))
                  if p.name != "caches.py" and "lru_cache" in p.read_text(encoding="utf-8")]
    assert undeclared == ["store/elastic/indices.py"]  # declared there as caches.ES_MAPPING
    loaded = caches.loaded()
    assert {caches.STEM, caches.TEXT_TERMS, caches.FUSION} <= set(loaded)
    for name, cached in loaded.items():
        assert cached.cache_parameters()["maxsize"] == caches.bound(name), name
    fusion.stem("strikes")
    caches.clear_all()
    assert loaded[caches.STEM].cache_info().currsize == 0


# --- figure evidence of an article (scoring.news_features) ------------------------------------

def test_an_article_that_revises_the_claims_toll_is_not_a_different_figure() -> None:
    """Its best two sentences give 27 killed, another of its candidates the
    claim's 20: not "different" (a revised toll, the seeds' market strike).
    An article whose candidates give only 27 is."""
    sentences = [
        stored("revised", 1, "The toll rose to 27.", "A", _unit(1), quantities=[q(27)]),
        stored("revised", 2, "Rescuers said 20 people were killed.", "A", _unit(1), quantities=[q(20)]),
        stored("revised", 3, "The market was busy.", "A", _unit(1)),
        stored("other", 1, "27 people were killed.", "B", _unit(2), quantities=[q(27)]),
        stored("other", 2, "The market was busy.", "B", _unit(2)),
    ]
    candidates = CandidateSet(claim(), sentences, np.zeros((len(sentences), len(lookup.SENTENCE_FEATURES))),
                              articles=["revised", "other"], article_rows=[[0, 1, 2], [3, 4]])
    fitted = np.array([3.0, -1.0, 2.0, 3.0, 2.0])  # "revised": its best two are rows 0 and 2
    rows, articles = lookup.news_features(candidates, fitted)
    same, different = lookup.NEWS_FEATURES.index("figure_same"), lookup.NEWS_FEATURES.index("figure_different")
    assert rows[0, different] == 1 and rows[1, same] == 1  # each sentence keeps its own figures
    assert articles[0, same] == 0 and articles[0, different] == 0
    assert articles[1, same] == 0 and articles[1, different] == 1
