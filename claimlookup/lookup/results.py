"""What a lookup takes and gives: the request, reports, summary, scan results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from claimlookup.model import Agreement, ClaimStance, EntityMention, Filters, Frame, Quantity

#: A claim needs at least this many content words (after tweet cleaning);
#: fewer and it is a topic, not a claim (``ClaimTooShort``).
MIN_CONTENT_WORDS = 3
#: Upper bound on ``LookupRequest.limit`` (reports per lookup).
MAX_LIMIT = 50



class ClaimTooShort(ValueError):
    """The text has too few content words to be a claim (API: 422)."""

    def __init__(self, content_words: int, minimum: int = MIN_CONTENT_WORDS) -> None:
        super().__init__(
            f"a claim needs at least {minimum} content words; this text has {content_words}")
        self.content_words = content_words
        self.minimum = minimum


class ClaimNotEnglish(ValueError):
    """The text is clearly not English (API: 422): the models are English
    only and would misread it (``claimlookup.language``)."""

    def __init__(self, language: str | None, reason: str) -> None:
        super().__init__(f"the claim reads as {language or 'another language'}, not English ({reason}); "
                         "claims must be in English")
        self.language = language


# --- request ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """One claim to look up.

    ``text``: the claim (a sentence, a tweet, a selection; tweets are cleaned
    first: URLs, the "— Name (@handle) Date" trailer, @mentions, hashtags,
    emoji). ``limit``: at most this many reports (articles), 1..MAX_LIMIT.
    ``min_score``: drop reports whose calibrated score is below it (0..1).
    ``explain``: fill ``ReportSentence.evidence`` with the features and their
    contributions to the score.
    """

    text: str
    filters: Filters = Filters()
    limit: int = 10
    min_score: float = 0.0
    explain: bool = False


# --- result -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimView:
    """The claim as the lookup understood it (after cleaning and analysis)."""

    text: str
    entities: list[EntityMention]
    quantities: list[Quantity]


@dataclass(frozen=True, slots=True)
class QuantityAgreement:
    """A figure of a report sentence and how it compares with the claim's
    figures (``lookup.figures.agreement``): ``same`` / ``different`` for the
    same thing (``counts``, ``event``, ``scope``), within the tolerance
    documented in ``docs/lookup.md`` or not; ``part`` / ``whole`` for a
    related thing that fits (a part of the claim's, or a whole containing
    it); ``different`` also for a related one that cannot fit; ``absent`` if
    the claim counts nothing related."""

    quantity: Quantity
    agreement: Agreement


@dataclass(frozen=True, slots=True)
class ReportSentence:
    """A sentence of a report that matches the claim.

    ``highlighted``: the HTML-escaped text with ``<mark>`` around the words it
    shares with the claim. ``score``: the relation model's probability that
    this sentence, read alone, is about the claim (not calibrated; the
    report's ``score`` is). ``stance``: what the sentence does with the claim
    (supports, refutes, discusses). ``frame`` / ``attributed_to``: how it
    says it, from the stored sentence (own voice, attributed, denied; who
    says or denies it). ``evidence``: the model's probabilities and the
    ranking features, only when ``explain`` was asked.
    """

    position: int
    text: str
    highlighted: str
    score: float
    stance: ClaimStance
    frame: Frame
    attributed_to: str | None
    quantities: list[QuantityAgreement]
    evidence: dict | None = None


@dataclass(frozen=True, slots=True)
class Copy:
    """A syndicated or near-duplicate copy of a report, folded under the
    earliest-published version."""

    article_id: str
    source: str | None
    published: date | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """An article that reports the claim, with its best sentences first.

    ``score``: calibrated probability that the article reports the claim,
    from its own evidence only (the relation model on its passage and best
    sentences, cosine, word coverage, entities, figures; ``lookup.judging``),
    never relative to the other reports. ``stance``: what the article does
    with the claim (supports, refutes, discusses; docs/lookup.md, "Stance").
    ``shared_entities`` / ``missing_entities``: the claim's entity keys that
    the article mentions / does not mention. ``evidence``: the article
    features and their contributions, only when ``explain`` was asked.
    """

    article_id: str
    title: str
    source: str | None
    published: date | None
    url: str | None
    score: float
    stance: ClaimStance
    sentences: list[ReportSentence]
    copies: list[Copy] = field(default_factory=list)
    shared_entities: list[str] = field(default_factory=list)
    missing_entities: list[str] = field(default_factory=list)
    evidence: dict | None = None


@dataclass(frozen=True, slots=True)
class FigureValue:
    """One value given for a counted thing, and the outlets that give it."""

    value: float
    outlets: list[str]


@dataclass(frozen=True, slots=True)
class FigureRow:
    """For one counted thing (``counts`` + ``event`` + ``scope``, e.g.
    people killed in the incident), every value the reports give, most
    outlets first. Cumulative tolls ("since 2011") have rows of their own."""

    counts: str
    event: str
    values: list[FigureValue]
    scope: str = "event"


@dataclass(frozen=True, slots=True)
class Summary:
    """``reports``: number of reports (copies not counted); ``outlets``:
    distinct sources (copies included); ``stances``: number of reports per
    stance toward the claim (every ClaimStance value is a key);
    ``figures``: the figures table."""

    reports: int
    outlets: int
    stances: dict[str, int]
    figures: list[FigureRow]


@dataclass(frozen=True, slots=True)
class LookupResult:
    claim: ClaimView
    reports: list[Report]
    summary: Summary


@dataclass(frozen=True, slots=True)
class ScannedSentence:
    """A check-worthy sentence of the scanned article and its other reports.

    ``reason``: why it is check-worthy: ``"figure"``, ``"reporting verb"`` or
    ``"actors"`` (two or more named actors), the first rule that fired.
    ``context``: the page's places it was looked up with, as written on the
    page (a sentence that names no place; ``lookup.page.sentence_context``).
    """

    position: int
    text: str
    reason: str
    reports: list[Report]
    context: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SkippedSentence:
    """A sentence of the scanned article that was not looked up, and why:
    ``"boilerplate"`` (``rule``: the cleaner's rule that marks its line as
    page furniture), ``"too short"``, ``"no claim signal"`` or ``"over the
    cap"`` (check-worthy, after the first ``MAX_SCAN_CLAIMS``); see
    ``lookup.page``."""

    position: int
    text: str
    reason: str
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    sentences: list[ScannedSentence]
    #: Check-worthy sentences found but not looked up (over ``MAX_SCAN_CLAIMS``).
    unchecked: int = 0
    #: Every other sentence, in text order, with why it was not looked up.
    skipped: list[SkippedSentence] = field(default_factory=list)


