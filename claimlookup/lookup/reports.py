"""Reports: the sentences shown, highlights, evidence, and the summary."""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

import numpy as np

from claimlookup import fusion
from claimlookup.lookup.figures import Relation, agreement, relation
from claimlookup.lookup.grouping import FOLD_DEPTH, _Exclusion, _Group, fold_copies, group_by_article
from claimlookup.lookup.judging import JUDGED_SENTENCES, Judgement, judge
from claimlookup.lookup.results import (
    Copy,
    FigureRow,
    FigureValue,
    QuantityAgreement,
    Report,
    ReportSentence,
    Summary,
)
from claimlookup.lookup.scoring import ScoredCandidates, _models, _news_model, news_applies
from claimlookup.model import ClaimStance, Quantity
from claimlookup.relation import LABELS

#: Sentences shown per report: the best one, and the next best scoring at
#: least SENTENCE_FLOOR, at most MAX_SENTENCES_PER_REPORT in all.
MAX_SENTENCES_PER_REPORT = JUDGED_SENTENCES
SENTENCE_FLOOR = 0.02

# --- reports -------------------------------------------------------------------------


def highlight(text: str, stems: dict[str, float] | set[str]) -> str:
    """``text`` HTML-escaped, with ``<mark>`` around words whose stem is one
    of the claim's content stems."""
    out, last = [], 0
    for start, end, word in fusion.words(text):
        if word.lower() in fusion.STOPWORDS or fusion.stem(word) not in stems:
            continue
        out += [html.escape(text[last:start]), "<mark>", html.escape(word), "</mark>"]
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def _report_sentence(candidates: ScoredCandidates, row: int, judgement: Judgement, explain: bool) -> ReportSentence:
    stored = candidates.sentences[row]
    sentence = stored.sentence
    claim = candidates.claim
    probabilities = judgement.sentences[row]
    evidence = None
    if explain:
        evidence = _evidence(_models().sentence, candidates.features[row], candidates.news_features[row],
                             news_applies(claim))
        evidence["probabilities"] = {name: round(p, 4) for name, p in zip(LABELS, probabilities, strict=True)}
    return ReportSentence(
        position=sentence.position, text=sentence.text, highlighted=highlight(sentence.text, claim.stems),
        score=round(1.0 - probabilities[0], 4), stance=judgement.sentence_stances[row], frame=sentence.stance,
        attributed_to=sentence.speaker,
        quantities=[QuantityAgreement(q, agreement(claim.quantities, q)) for q in sentence.quantities],
        evidence=evidence)


def _evidence(model: fusion.FusionModel, row: np.ndarray, news: np.ndarray, applies: bool) -> dict:
    """What ``explain`` shows: the features and their shares of the log-odds:
    the fitted model's (and its ``bias``), then, when the news model applies
    to the claim, its own, prefixed ``news_`` (and its ``news_bias``). The
    contributions add up to the logit of the score."""
    features = {n: round(float(v), 4) for n, v in zip(model.features, row, strict=True)}
    contributions = model.contributions(row)
    if applies:
        news_model = _news_model()
        features.update({f"news_{n}": round(float(v), 4) for n, v in zip(news_model.features, news, strict=True)})
        contributions.update({f"news_{n}": v for n, v in news_model.contributions(news).items()})
    return {"features": features, "contributions": contributions}


def _shown_rows(candidates: ScoredCandidates, group: _Group, most: int = MAX_SENTENCES_PER_REPORT) -> list[int]:
    """The group's best sentence, then the others scoring at least
    SENTENCE_FLOOR, at most ``most``."""
    best, rest = group.rows[0], group.rows[1:]
    return [best, *(i for i in rest if candidates.scores[i] >= SENTENCE_FLOOR)][:most]


def _copy(candidates: ScoredCandidates, group: _Group) -> Copy:
    s = candidates.sentences[group.rows[0]]
    return Copy(s.ref.article_id, s.source, s.published, s.url)


def build_report(candidates: ScoredCandidates, group: _Group, judgement: Judgement | None = None,
                 explain: bool = False) -> Report:
    """The report of one judged article group: its best sentences, copies,
    and the claim's entities it shares or misses (over the sentences fetched
    for it: its title and every candidate sentence). Without ``judgement``
    the group is judged here."""
    if judgement is None:
        (judgement,) = judge(candidates, [group], shown=[_shown_rows(candidates, group)])
    lead = candidates.sentences[group.rows[0]]
    shared = candidates.entities_found(group.index)
    keys = list(dict.fromkeys(e.key for e in candidates.claim.entities))
    evidence = None
    if explain:
        from claimlookup.lookup.judging import SCORE_FEATURES, load_calibration

        calibration = load_calibration()
        evidence = {"features": {n: round(v, 4) for n, v in zip(SCORE_FEATURES, judgement.features, strict=True)},
                    "contributions": calibration.contributions(np.array(judgement.features)) if calibration else {},
                    "probabilities": {n: round(p, 4) for n, p in zip(LABELS, judgement.probabilities, strict=True)},
                    "ranking": _evidence(_models().article, candidates.article_features[group.index],
                                         candidates.article_news_features[group.index],
                                         news_applies(candidates.claim))}
    return Report(
        article_id=lead.ref.article_id, title=lead.title, source=lead.source, published=lead.published,
        url=lead.url, score=round(judgement.score, 4), stance=judgement.stance,
        sentences=[_report_sentence(candidates, i, judgement, explain) for i in judgement.sentences],
        copies=[_copy(candidates, g) for g in group.copies],
        shared_entities=[k for k in keys if k in shared],
        missing_entities=[k for k in keys if k not in shared],
        evidence=evidence)


def judged_groups(candidates: ScoredCandidates, limit: int, exclude: _Exclusion | None = None,
                  ranking_floor: float = 0.0, sentences: int = MAX_SENTENCES_PER_REPORT,
                  ) -> list[tuple[_Group, Judgement]]:
    """The best ``limit`` article groups by the ranking (copies folded,
    exclusions dropped, ranking score at least ``ranking_floor``), judged by
    the relation model with at most ``sentences`` sentences each, in report
    order (``order_key``).

    Only the best FOLD_DEPTH x ``limit`` articles are considered for folding:
    copies carry the same text, so they score alike and sit together."""
    groups = fold_copies(candidates, group_by_article(candidates)[:FOLD_DEPTH * limit + 2])
    if exclude is not None:
        groups = [g for g in groups if not exclude.covers(candidates, g)]
    groups = [g for g in groups[:limit] if g.score >= ranking_floor]
    judgements = judge(candidates, groups, shown=[_shown_rows(candidates, g, sentences) for g in groups])
    return sorted(zip(groups, judgements, strict=True),
                  key=lambda gj: (not gj[1].reports_the_denial, -order_key(gj[0], gj[1])))


def order_key(group: _Group, judgement: Judgement) -> float:
    """Reports are listed by the ranking's and the relation model's evidence
    together: the sum of the log-odds of the ranking score (relative to the
    other candidates: good at "which one first") and of the calibrated score
    (absolute). On CheckThat! dev, MAP@5 0.8792 this way, 0.8783 by the
    ranking alone, 0.8115 by the calibrated score alone. For a claim that
    reports a denial, the reports that report that denial come first (the
    ranking stage cannot see polarity)."""
    return _log_odds(group.score) + _log_odds(judgement.score)


def _log_odds(p: float) -> float:
    q = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(q / (1 - q)))


def reports_for(candidates: ScoredCandidates, limit: int, min_score: float = 0.0, explain: bool = False,
                exclude: _Exclusion | None = None, ranking_floor: float = 0.0,
                sentences: int = MAX_SENTENCES_PER_REPORT) -> list[Report]:
    """Scored candidates -> the best ``limit`` reports at or above
    ``min_score``, in report order (see ``judged_groups``)."""
    judged = judged_groups(candidates, limit, exclude, ranking_floor, sentences)
    return [build_report(candidates, g, j, explain) for g, j in judged if j.score >= min_score]


# --- summary -------------------------------------------------------------------------


#: The summary counts the reports at least this likely to report the claim
#: ("as likely as not"); the others are listed but are probably other events.
SUMMARY_MIN_SCORE = 0.5


def summarise(reports: Sequence[Report], claim_quantities: Sequence[Quantity] = (),
              min_score: float = SUMMARY_MIN_SCORE) -> Summary:
    """Counts of reports, outlets and stances, and the figures table, over
    the reports scoring at least ``min_score``."""
    reports = [r for r in reports if r.score >= min_score]
    outlets = {name for r in reports for name in outlet_names(r)}
    stances = {s.value: 0 for s in ClaimStance}
    for report in reports:
        stances[report.stance.value] += 1
    return Summary(reports=len(reports), outlets=len(outlets), stances=stances,
                   figures=figures_table(reports, claim_quantities))


def outlet_name(source: str | None, url: str | None, article_id: str) -> str:
    """Who published an article: its source; without one, its URL's host
    (``www.`` dropped); without either, its id. Every report counts as some
    outlet (a report without a source was counted as none: "1 report, 0 outlets")."""
    if source:
        return source
    host = urlsplit(url).hostname if url else None
    if host:
        return host.removeprefix("www.")
    return article_id


def outlet_names(report: Report) -> list[str]:
    """The outlets of a report and of its copies, each once, the report's first."""
    names = [outlet_name(report.source, report.url, report.article_id),
             *(outlet_name(c.source, c.url, c.article_id) for c in report.copies)]
    return list(dict.fromkeys(names))


def figures_table(reports: Sequence[Report], claim_quantities: Sequence[Quantity] = ()) -> list[FigureRow]:
    """For each counted thing (counts + event + scope) in the reports'
    sentences, each value given and the outlets giving it (``outlet_names``:
    copies add their outlets). Rows come in this order: the things the claim
    counts, the things related to them (``figures.relation``: parts and
    wholes), the other things of one incident, then cumulative tolls ("since
    2011": kept apart, never mixed with an incident's figures); within each,
    the most reported first; values by outlets.
    Only sentences that report the claim count (``score`` at least
    SUMMARY_MIN_SCORE): a toll in a sentence about something else is not a
    figure for this claim."""
    table: dict[tuple[str, str, str], dict[float, list[str]]] = {}
    examples: dict[tuple[str, str, str], Quantity] = {}
    for report in reports:
        names = outlet_names(report)
        for sentence in report.sentences:
            if sentence.score < SUMMARY_MIN_SCORE:
                continue
            for qa in sentence.quantities:
                q = qa.quantity
                key = (q.counts, q.event, q.scope)
                examples.setdefault(key, q)
                outlets = table.setdefault(key, {}).setdefault(q.value, [])
                outlets += [n for n in names if n not in outlets]
    rows = [FigureRow(counts, event, sorted((FigureValue(v, o) for v, o in values.items()),
                                            key=lambda fv: (-len(fv.outlets), fv.value)), scope)
            for (counts, event, scope), values in table.items()]
    rank = {key: _row_rank(q, claim_quantities) for key, q in examples.items()}
    return sorted(rows, key=lambda r: (rank[(r.counts, r.event, r.scope)],
                                       -sum(len(v.outlets) for v in r.values)))


def _row_rank(q: Quantity, claim_quantities: Sequence[Quantity]) -> int:
    """0: a thing the claim counts; 1: related to one; 2: another thing of
    one incident; 3: a cumulative toll the claim does not give."""
    kinds = {relation(c, q) for c in claim_quantities} - {None}
    if Relation.SAME in kinds:
        return 0
    if kinds:
        return 1
    return 3 if q.scope == "cumulative" else 2
