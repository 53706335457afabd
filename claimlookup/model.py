"""Domain objects shared by the indexer, the stores, the lookup and the API.

These dataclasses are the only things that cross layer boundaries: stores turn
their rows or hits into them, the API turns them into JSON. No Flask, no SQL,
no Elasticsearch wire format here.

Offsets: ``Sentence.start/end`` are character offsets into ``Article.body``
(for the title sentence, into ``Article.title``). ``EntityMention.start/end``
and ``Quantity.start/end`` are offsets into the sentence's own ``text``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

#: Position of the title pseudo-sentence; body sentences are numbered from 1.
TITLE_POSITION = 0


class Frame(str, enum.Enum):
    """How a sentence frames what it says (API: ``frame``): in its own voice,
    as someone's statement, as someone's denial, or unclearly. A property of
    the sentence alone, read by ``claimlookup.nlp``; not its stance toward a
    claim (``ClaimStance``)."""

    ASSERTS = "asserts"  # states it in the outlet's own voice
    ATTRIBUTES = "attributes"  # reports that someone says it
    DENIES = "denies"  # reports that someone denies it
    UNCLEAR = "unclear"  # a question, a hedge, or no claim-bearing clause


class ClaimStance(str, enum.Enum):
    """What a report does with a given claim (API: ``stance``), read by the
    claim-relation model (``claimlookup.relation``)."""

    SUPPORTS = "supports"  # states or confirms it
    REFUTES = "refutes"  # denies or contradicts it
    DISCUSSES = "discusses"  # relays it without taking a side


class Agreement(str, enum.Enum):
    """How a report's figure compares with the claim's figures.

    ``same`` / ``different``: the claim counts the same thing (counts, event,
    scope) and the values agree / do not. ``part``: the report counts a part
    of what the claim counts (11 civilians of 20 people killed) and fits in
    it; ``whole``: the report counts a whole that the claim's thing is part of
    and is not smaller. A related figure that cannot fit (27 civilians of 20
    people) is ``different``. ``absent``: the claim counts nothing the
    figure's thing is, contains or is part of (docs/lookup.md, "Figures and
    agreement")."""

    SAME = "same"
    PART = "part"
    WHOLE = "whole"
    DIFFERENT = "different"
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class EntityMention:
    """A named entity as written in a sentence.

    ``key`` is the normalised identity used for matching and facets: lower
    case, leading articles and possessives stripped, so that "the Syrian
    Observatory for Human Rights" and "Syrian Observatory for Human Rights"
    share one key.
    """

    text: str
    label: str  # spaCy label: PERSON, ORG, GPE, NORP, LOC, FAC, EVENT, ...
    key: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Quantity:
    """A figure a sentence gives: "at least 45 militants killed".

    ``value`` is the figure as a number ("two dozen" -> 24, "dozens" -> 24
    with ``qualifier="vague"``). ``counts`` is what is counted, normalised to
    a singular lemma ("people", "civilian" -> "civilians" is kept plural:
    see claimlookup/nlp/figures.py for the exact vocabulary). ``event`` is the normalised event
    ("killed", "wounded", ...) or "" when the sentence names none.
    ``scope`` is ``event`` for a figure of one incident, ``cumulative`` for a
    toll over a period or a whole war ("since 2011", "the war has killed"):
    the two never compare (docs/nlp.md, "Cumulative tolls").
    """

    value: float
    text: str
    counts: str = ""
    event: str = ""
    qualifier: str = "exact"  # exact | approx | at_least | at_most | vague
    start: int = 0
    end: int = 0
    scope: str = "event"  # event | cumulative


@dataclass(slots=True)
class Sentence:
    """One sentence of an article (position 0 is the title)."""

    position: int
    text: str
    start: int
    end: int
    entities: list[EntityMention] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    stance: Frame = Frame.ASSERTS  # the sentence's frame (API: ``frame``); stored as ``stance``
    speaker: str | None = None  # who it is attributed to, or who denies it
    vector: np.ndarray | None = None  # float32, L2-normalised

    @property
    def is_title(self) -> bool:
        return self.position == TITLE_POSITION


@dataclass(slots=True)
class Article:
    """A news article, before or after analysis.

    ``sentences`` is empty until the pipeline has analysed the article; a
    stored article always has them (title first).
    """

    id: str
    title: str
    body: str
    source: str | None = None
    url: str | None = None
    published: date | None = None
    language: str = "en"
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Hash of everything the pipeline reads, and of the version of what it
        computes from it (ANALYSIS_VERSION): equal hash, nothing to redo."""
        parts = [self.title, self.body, self.source or "", self.url or "",
                 self.published.isoformat() if self.published else "", self.language, ANALYSIS_VERSION]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    @property
    def entities(self) -> list[EntityMention]:
        return [e for s in self.sentences for e in s.entities]


#: Version of the stored analysis (sentences, entities, figures, stance, vectors).
#: It is part of every article's content hash, so bumping it when the NLP rules
#: or the embedder change makes the next indexer run redo every article (instead
#: of skipping it as unchanged and leaving vectors of another model in the store).
#: "2" = the integer-GEMM MiniLM of claimlookup/embed.py (recipe rowq8-v1);
#: "3" = figures: "including" groups and lists share their event, cumulative
#: tolls have ``scope="cumulative"``;
#: "4" = places as places (the gazetteer component ``claimlookup_places``:
#: entity labels and spans) and speakers that are people or organisations;
#: "5" = the embedder's recipe rowq8-v2 (GELU and NaN guards simplified, no
#: SkipLayerNormalization fusion: vectors within cosine 0.9993 of rowq8-v1's);
#: "6" = recipe rowq8-v3 (one QuantizeLinear a quantised activation: vectors
#: within cosine 0.999, mean 0.9997, of rowq8-v2's);
#: "7" = the three-layer student embedder (docs/embedder.md: vectors within
#: cosine ~0.92-0.95 of the six-layer model's, not interchangeable with them).
#: Not bumped for the exact integer products on CPUs without VNNI (session 13,
#: ``claimlookup.int8_products``): a VNNI CPU's vectors did not change, and a
#: bump re-analyses every store everywhere; a store indexed on a CPU without
#: VNNI before it holds vectors within cosine 0.9987 (min 0.9975) of the exact
#: ones, re-embedded by ``claimlookup-index --reindex`` (docs/operations.md).
ANALYSIS_VERSION = "7"


class WriteStatus(str, enum.Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    article_id: str
    status: WriteStatus
    sentences: int = 0
    entities: int = 0


# --- search -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A word or an exact phrase of a search query."""

    text: str
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A search query: every group must match (a group matches if any of its
    terms does: ``OR``), and no excluded term may match."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.groups


@dataclass(frozen=True, slots=True)
class Filters:
    sources: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    entities: tuple[str, ...] = ()  # entity keys; every one must occur
    exclude_articles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: ParsedQuery = ParsedQuery()
    level: str = "article"  # article | sentence
    filters: Filters = Filters()
    sort: str = "relevance"  # relevance | date
    page: int = 1
    size: int = 10
    facets: bool = True


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: str
    title: str
    source: str | None
    published: date | None
    url: str | None
    score: float
    snippet: str  # HTML-escaped text with <mark>...</mark> around matches
    sentence_position: int | None = None  # set for level=sentence


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int
    label: str | None = None  # entity type, for entity facets
    name: str | None = None  # display form, for entity facets


@dataclass(frozen=True, slots=True)
class Facets:
    sources: list[FacetCount] = field(default_factory=list)
    entities: list[FacetCount] = field(default_factory=list)
    months: list[FacetCount] = field(default_factory=list)  # value "YYYY-MM"
    #: None: ``entities`` counts every matching article; a number: it counts
    #: that many, the articles of the best-ranked hits (the SQLite store
    #: samples when many match; Elasticsearch counts all).
    entities_sample: int | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    hits: list[SearchHit]
    facets: Facets = Facets()


@dataclass(frozen=True, slots=True)
class EntityCount:
    key: str
    name: str  # most frequent surface form
    label: str
    articles: int


@dataclass(frozen=True, slots=True)
class SourceCount:
    source: str
    articles: int
    first_published: date | None = None
    last_published: date | None = None


# --- claim lookup -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentenceRef:
    article_id: str
    position: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence a store proposes for a claim, with the store's raw score
    (BM25 for lexical candidates, cosine for vector candidates)."""

    ref: SentenceRef
    score: float


@dataclass(slots=True)
class StoredSentence:
    """A stored sentence with the article facts the lookup needs."""

    ref: SentenceRef
    sentence: Sentence
    title: str
    source: str | None
    published: date | None
    url: str | None
    article_hash: str = ""
    #: Keys of every entity the whole article mentions (added for the lookup's
    #: article-level entity evidence: a claim's place named in another
    #: sentence of the article still counts as shared).
    article_entities: tuple[str, ...] = ()
