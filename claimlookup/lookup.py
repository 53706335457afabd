"""Find other reports of a claim: candidates, fusion, grouping, annotations.

Two entry points, both pure domain code (no Flask, no SQL):

- :func:`find_reports` takes one claim sentence and returns the articles that
  report the same claim, grouped by article, best sentence first, with stance,
  figures and shared/missing entities for each report and a summary.
- :func:`scan` takes a whole article (raw text, or the id of an indexed
  article) and returns, for each of its check-worthy sentences, the other
  reports of it.

Scores are calibrated probabilities (see ``claimlookup/fusion.py`` and
``docs/lookup.md``): 0.5 means "about one in two sentences scored like this
one reports the same claim", whatever the query.

Errors: :class:`ClaimTooShort` (a ``ValueError``) for input that is too short
to be a claim (the API answers 422); ``ArticleNotFound`` from the store for an
unknown ``article_id`` (404); ``StoreUnavailable`` passes through (503).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from claimlookup import fusion
from claimlookup.model import (
    TITLE_POSITION,
    Agreement,
    Article,
    EntityMention,
    Filters,
    ParsedQuery,
    Quantity,
    Sentence,
    SentenceRef,
    Stance,
    StoredSentence,
    Term,
)
from claimlookup.store.base import ArticleNotFound, Store

#: A claim needs at least this many content words (after tweet cleaning);
#: fewer and it is a topic, not a claim (``ClaimTooShort``).
MIN_CONTENT_WORDS = 3
#: Upper bound on ``LookupRequest.limit`` (reports per lookup).
MAX_LIMIT = 50
#: Sentences proposed by BM25 and by the vectors, per claim (the union is scored).
LEXICAL_CANDIDATES = 40
VECTOR_CANDIDATES = 40
#: At most this many of the claim's key terms (the rarest, by the fixed IDF
#: table) in the lexical OR-query. Cutting to 8 made the query ~10x cheaper
#: but cost 0.03 MAP@5 on CheckThat! dev, so the cap only guards long texts.
MAX_QUERY_TERMS = 32
#: Lexical candidates are proposed by the store's BM25 for the claim's
#: PROPOSING_TERMS rarest terms (cheap: rare terms have short postings); the
#: BM25 feature of every candidate is then computed here over all its terms.
PROPOSING_TERMS = 6
#: BM25 parameters of the lexical feature (``bm25``), computed in the lookup.
BM25_K1 = 1.2
BM25_B = 0.75
BM25_AVERAGE_LENGTH = 12.0  # content words of a typical news sentence
#: Sentences shown per report: the best one, and the next best scoring at
#: least SENTENCE_FLOOR, at most MAX_SENTENCES_PER_REPORT in all.
MAX_SENTENCES_PER_REPORT = 5
SENTENCE_FLOOR = 0.02
#: Relative tolerance (of the larger value) within which an approximate
#: figure agrees ("around two dozen" vs 20); "dozens"-style vague figures get
#: VAGUE_TOLERANCE.
APPROX_TOLERANCE = 0.2
VAGUE_TOLERANCE = 0.5
#: "at least X" agrees with values up to X x (1 + OPEN_BOUND_RANGE).
OPEN_BOUND_RANGE = 0.5
#: Two reports are copies (syndication, re-posts) when their titles are the
#: same once normalised, or their best sentences are identical and their
#: titles' vectors at least this close.
COPY_TITLE_COSINE = 0.9
FOLD_DEPTH = 4


class ClaimTooShort(ValueError):
    """The text has too few content words to be a claim (API: 422)."""

    def __init__(self, content_words: int, minimum: int = MIN_CONTENT_WORDS) -> None:
        super().__init__(
            f"a claim needs at least {minimum} content words; this text has {content_words}")
        self.content_words = content_words
        self.minimum = minimum


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
    figure for the same thing (same ``counts`` and ``event``): ``same`` if the
    values agree within the tolerance documented in ``docs/lookup.md``,
    ``different`` if not, ``absent`` if the claim gives no figure for it."""

    quantity: Quantity
    agreement: Agreement


@dataclass(frozen=True, slots=True)
class ReportSentence:
    """A sentence of a report that matches the claim.

    ``highlighted``: the HTML-escaped text with ``<mark>`` around the words it
    shares with the claim. ``score``: calibrated probability that this
    sentence reports the claim. ``stance`` / ``attributed_to``: from the
    stored sentence (who says it, or who denies it). ``evidence``: the
    features and their contributions, only when ``explain`` was asked.
    """

    position: int
    text: str
    highlighted: str
    score: float
    stance: Stance
    attributed_to: str | None
    quantities: list[QuantityAgreement]
    evidence: dict[str, float] | None = None


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

    ``score``: calibrated probability that the article reports the claim
    (the article model over its best two sentences and article evidence).
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
    """For one counted thing (``counts`` + ``event``, e.g. people killed),
    every value the reports give, most outlets first."""

    counts: str
    event: str
    values: list[FigureValue]


@dataclass(frozen=True, slots=True)
class Summary:
    """``reports``: number of reports (copies not counted); ``outlets``:
    distinct sources (copies included); ``stances``: number of reports per
    stance of their best sentence (every Stance value is a key);
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
    """

    position: int
    text: str
    reason: str
    reports: list[Report]


@dataclass(frozen=True, slots=True)
class ScanResult:
    sentences: list[ScannedSentence]


# --- claim normalisation ------------------------------------------------------

# "— Jane Doe (@janedoe) January 6, 2020": the trailer of a copied tweet.
_TWEET_TRAILER = re.compile(
    r"\s*[\u2014\u2013]+\s*([^\u2014\u2013\n]{0,80}?)\s*\(@\w+\)\s*"
    r"(?:[A-Z][a-z]+\.? \d{1,2}, \d{4}|$)")
_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*", re.IGNORECASE)
_VIA = re.compile(r"\s*\bvia\s+@\w+", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^(?:\.?@\w+[\s:,]*)+")
_TAG = re.compile(r"([#@])(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_SPACES = re.compile(r"\s+")


def _author(match: re.Match) -> str:
    """A tweet trailer becomes its author's name in brackets: who says it is
    part of the claim ("Polls look bad for Obama" (Donald J. Trump))."""
    name = match.group(1).strip()
    return f" ({name}) " if name else " "


def _split_tag(match: re.Match) -> str:
    """``#ImpeachTrump`` -> ``Impeach Trump``; ``@SnoopDogg`` -> ``Snoop Dogg``."""
    words = _CAMEL.sub(" ", match.group(2).replace("_", " "))
    return " " + words.strip() + " "


def _drop_symbols(text: str) -> str:
    # Emoji, pictographs and flags are category So; joiners and variation
    # selectors (Cf, Mn after them) are left over from emoji sequences.
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "So" or "\U0001f3fb" <= ch <= "\U0001f3ff" or ch in "\u200d\ufe0f\ufe0e":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def normalise_claim(text: str) -> str:
    """Turn a pasted claim (often a copied tweet) into plain sentence text.

    In order: HTML entities unescaped; emoji and other pictographic symbols
    removed; each "— Name (@handle) Date" tweet trailer (also one quoted in
    the middle) replaced by "(Name)"; URLs (``http(s)://``, ``www.``, ``pic.twitter.com/``,
    also when glued to a word) removed; leading reply @mentions and
    "via @handle" removed; remaining ``#hashtags`` and ``@mentions`` turned
    into words split at case changes (``#ImpeachTrump`` -> "Impeach Trump");
    whitespace collapsed.
    Plain news sentences pass through unchanged.
    """
    text = _drop_symbols(html.unescape(text))
    text = _TWEET_TRAILER.sub(_author, text)
    text = _URL.sub(" ", text)
    text = _VIA.sub(" ", text)
    text = _LEADING_MENTIONS.sub("", text.strip())
    text = _TAG.sub(_split_tag, text)
    text = _SPACES.sub(" ", text).strip()
    return re.sub(r" ([.,;:!?])", r"\1", text)


# --- the claim --------------------------------------------------------------------


@dataclass(slots=True)
class PreparedClaim:
    """A claim ready for matching: cleaned text, analysis, its vector (one
    row: the whole claim), and its content stems with their IDF.

    Embedding each sentence of a multi-sentence claim as well (a tweet often
    has several) was measured: no gain on CheckThat! dev, twice the
    embedding time; so one vector per claim.
    """

    text: str
    sentences: list[Sentence]
    entities: list[EntityMention]
    quantities: list[Quantity]
    key_terms: list[str]
    vectors: np.ndarray
    stems: dict[str, float]  # content stem -> IDF weight


def content_words(key_terms: Sequence[str]) -> int:
    return len(key_terms)


def prepare_claims(texts: Sequence[str]) -> list[PreparedClaim]:
    """Normalise, analyse and embed claims (one embedder call for all).
    Raise ClaimTooShort for the first claim with too few content words.

    The length check needs only ``nlp.key_terms`` (a regex); spaCy then runs
    on the analysis thread while the embedder runs here (onnxruntime releases
    the GIL), which saves the shorter of the two on an idle core."""
    from claimlookup import nlp

    cleaned = [normalise_claim(text) for text in texts]
    for text in cleaned:
        words = content_words(nlp.key_terms(text))
        if words < MIN_CONTENT_WORDS:
            raise ClaimTooShort(words)
    analyses = _analysis_thread().submit(lambda: [nlp.analyse_claim(text) for text in cleaned])
    vectors = _embed(cleaned)
    return [_prepared(text, a.sentences, a.entities, a.quantities, a.key_terms, vectors[i:i + 1])
            for i, (text, a) in enumerate(zip(cleaned, analyses.result()))]


_ANALYSIS: tuple[int, ThreadPoolExecutor] | None = None


def _analysis_thread() -> ThreadPoolExecutor:
    """One thread per process for spaCy (so lookups never run the pipeline
    concurrently); created on first use, and again in a forked child."""
    global _ANALYSIS
    if _ANALYSIS is None or _ANALYSIS[0] != os.getpid():
        _ANALYSIS = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="claim-analysis"))
    return _ANALYSIS[1]


def _prepared(text: str, sentences: list[Sentence], entities: list[EntityMention],
              quantities: list[Quantity], key_terms: list[str], vectors: np.ndarray) -> PreparedClaim:
    weights = fusion.TermWeights.load()
    stems = {s: weights.idf(s) for s in fusion.content_stems(text)}
    unique = list({e.key: e for e in entities}.values())
    return PreparedClaim(text, sentences, unique, quantities, key_terms, vectors, stems)


def _embed(texts: list[str]) -> np.ndarray:
    from claimlookup.embed import get_embedder

    return get_embedder().embed(texts)


# --- candidates and features --------------------------------------------------------

#: Evidence about one candidate sentence, in the order of the sentence model's
#: weights. ``cosine_gap`` and ``rank_*`` compare it with the claim's other
#: candidates: a sentence far behind the best one is rarely the same claim.
SENTENCE_FEATURES = (
    "bm25",               # BM25 (fixed IDF, see bm25()) / best BM25 among this claim's candidates
    "coverage",           # IDF-weighted share of the claim's content words in the sentence
    "coverage_reverse",   # IDF-weighted share of the sentence's content words in the claim
    "cosine",             # claim vector . sentence vector
    "cosine_gap",         # cosine - the best cosine among the candidates
    "rank_vector",        # 1 / (1 + rank of the sentence by cosine / RANK_SCALE)
    "rank_lexical",       # 1 / (1 + rank of the sentence by bm25 / RANK_SCALE)
    "entities_shared",    # claim entities the sentence mentions (at most 3)
    "entities_missing",   # claim entities it does not mention (at most 3)
)
#: Evidence about a candidate article, over the sentences the lookup fetched
#: of it (its title and every candidate sentence), in the order of the
#: article model's weights.
ARTICLE_FEATURES = (
    "best_sentence",      # log-odds of its best sentence (sentence model)
    "second_sentence",    # log-odds of its second best (best - 5 when it has one)
    "coverage_article",   # IDF-weighted share of the claim's words in those sentences together
    "entities_shared",    # claim entities the article mentions (at most 3)
    "entities_missing",   # claim entities it does not mention (at most 3)
    "title_cosine",       # cosine of its title
    "title_bm25",         # bm25 feature of its title (0 if the title does not match)
)
#: Rank features are 1 / (1 + rank / RANK_SCALE): how far down the claim's
#: candidates a sentence sits, softened so that the fifth of five good
#: reports is not scored as a near miss (docs/lookup.md, "Ranks").
RANK_SCALE = 3.0
#: Log-odds given to a missing second sentence: "best - SECOND_GAP".
SECOND_GAP = 5.0


@dataclass(slots=True)
class CandidateSet:
    """One claim's candidate sentences, their articles and the evidence.

    Rows of ``features`` / ``logits`` / ``scores`` align with ``sentences``;
    rows of ``article_features`` / ``article_scores`` with ``articles``, and
    ``article_rows[k]`` lists the sentence rows of ``articles[k]``. Scores are
    filled by ``score``.
    """

    claim: PreparedClaim
    sentences: list[StoredSentence]
    features: np.ndarray  # (len(sentences), len(SENTENCE_FEATURES))
    articles: list[str] = field(default_factory=list)
    article_rows: list[list[int]] = field(default_factory=list)
    logits: np.ndarray | None = None
    scores: np.ndarray | None = None
    article_features: np.ndarray | None = None
    article_scores: np.ndarray | None = None
    news_features: np.ndarray | None = None  # (len(sentences), len(NEWS_FEATURES))
    article_news_features: np.ndarray | None = None  # (len(articles), len(NEWS_FEATURES))
    found: dict[int, list[str]] = field(default_factory=dict)  # article index -> claim entities it mentions

    def entities_found(self, k: int) -> list[str]:
        """The claim's entity keys that article ``k`` mentions (computed once)."""
        if k not in self.found:
            self.found[k] = _article_entities_found(self.claim, [self.sentences[i] for i in self.article_rows[k]]) \
                if self.claim.entities else []
        return self.found[k]


def lexical_query(claim: PreparedClaim, terms: int = MAX_QUERY_TERMS) -> ParsedQuery:
    """The claim's ``terms`` rarest key terms (by the fixed IDF table), in
    their order, as one OR-group; function words such as "said" left out."""
    weights = fusion.TermWeights.load()
    words = [t for t in claim.key_terms if t not in fusion.STOPWORDS]
    rarest = set(sorted(words, key=lambda t: -weights.idf(fusion.stem(t)))[:terms])
    chosen = tuple(Term(t) for t in words if t in rarest)
    return ParsedQuery(groups=(chosen,)) if chosen else ParsedQuery()


def candidate_sets(store: Store, claims: Sequence[PreparedClaim], filters: Filters,
                   limit: int | None = None) -> list[CandidateSet]:
    """Candidates of every claim with their features, from one vector search
    (all claims' vectors as one matrix), one BM25 query per claim (plus one
    to score the vector-only candidates), and one ``get_sentences`` call.
    ``limit``: candidates per source and claim (default LEXICAL_CANDIDATES /
    VECTOR_CANDIDATES)."""
    matrix = np.vstack([c.vectors for c in claims]) if claims else np.zeros((0, 1), np.float32)
    found = store.vector_candidates(matrix, filters, limit or VECTOR_CANDIDATES) if len(matrix) else []
    per_claim: list[list[SentenceRef]] = []
    row = 0
    for claim in claims:
        proposed = store.lexical_candidates(lexical_query(claim, PROPOSING_TERMS), filters,
                                            limit or LEXICAL_CANDIDATES)
        refs = dict.fromkeys(c.ref for c in proposed)
        for hits in found[row:row + len(claim.vectors)]:
            refs.update(dict.fromkeys(c.ref for c in hits))
        row += len(claim.vectors)
        refs.update(dict.fromkeys(SentenceRef(r.article_id, TITLE_POSITION) for r in list(refs)))
        per_claim.append(list(refs))
    wanted = list(dict.fromkeys(r for refs in per_claim for r in refs))
    stored = {s.ref: s for s in store.get_sentences(wanted)}
    out = []
    for claim, refs in zip(claims, per_claim):
        sentences = [stored[r] for r in refs if r in stored and stored[r].sentence.vector is not None]
        out.append(_candidate_set(claim, sentences))
    return out


@dataclass(frozen=True, slots=True)
class _TextTerms:
    """What the features need from a sentence's text, computed once per text."""

    stems: frozenset[str]
    weight: float  # sum of the stems' IDF
    words: frozenset[str]  # lower-case words, hyphens split
    counts: dict[str, int]  # content stem -> occurrences
    length: int  # content words


@functools.lru_cache(maxsize=100_000)
def _terms(text: str) -> _TextTerms:
    weights = fusion.TermWeights.load()
    # One pass of the word pattern (a hyphen is never part of a word, so
    # "al-Numan" is already "al", "Numan"); stems of the content words.
    lowered = [w.lower() for _, _, w in fusion.words(text)]
    all_stems = [fusion.stem(w) for w in lowered if w.replace("’", "'") not in fusion.STOPWORDS]
    stems = frozenset(all_stems)
    words = frozenset(lowered)
    counts: dict[str, int] = {}
    for stem in all_stems:
        counts[stem] = counts.get(stem, 0) + 1
    return _TextTerms(stems, sum(weights.idf(t) for t in stems), words, counts, len(all_stems))


def bm25(query: dict[str, float], terms: _TextTerms) -> float:
    """Okapi BM25 of a sentence for the claim's content stems (``stem ->
    IDF`` from the fixed table): k1 = BM25_K1, b = BM25_B, average length
    BM25_AVERAGE_LENGTH content words. Computed here, not by the store, so
    every store scores alike and no second query is needed."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * terms.length / BM25_AVERAGE_LENGTH)
    score = 0.0
    for stem, idf in query.items():
        tf = terms.counts.get(stem)
        if tf:
            score += idf * tf * (BM25_K1 + 1) / (tf + norm)
    return score


def _candidate_set(claim: PreparedClaim, sentences: list[StoredSentence]) -> CandidateSet:
    rows_of: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        rows_of.setdefault(s.ref.article_id, []).append(i)
    return CandidateSet(claim, sentences, _sentence_features(claim, sentences),
                        list(rows_of), list(rows_of.values()))


def _sentence_features(claim: PreparedClaim, sentences: list[StoredSentence]) -> np.ndarray:
    n = len(sentences)
    x = np.zeros((n, len(SENTENCE_FEATURES)))
    if not n:
        return x
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    cos = np.vstack([s.sentence.vector for s in sentences]).astype(np.float32) @ claim.vectors.T
    raw = np.array([bm25(claim.stems, _terms(s.sentence.text)) for s in sentences])
    x[:, col["bm25"]] = raw / raw.max() if raw.max() > 0 else 0.0
    x[:, col["cosine"]] = cos.max(axis=1)
    x[:, col["cosine_gap"]] = x[:, col["cosine"]] - x[:, col["cosine"]].max()
    x[:, col["rank_vector"]] = 1.0 / (1.0 + _ranks(x[:, col["cosine"]]) / RANK_SCALE)
    x[:, col["rank_lexical"]] = 1.0 / (1.0 + _ranks(x[:, col["bm25"]]) / RANK_SCALE)
    weights = fusion.TermWeights.load()
    for i, s in enumerate(sentences):
        terms = _terms(s.sentence.text)
        common = terms.stems.intersection(claim.stems)
        x[i, col["coverage"]] = fusion.coverage(claim.stems, terms.stems)
        x[i, col["coverage_reverse"]] = sum(weights.idf(t) for t in common) / terms.weight if terms.weight else 0.0
        shared = len(_entities_found(claim, [s.sentence])) if claim.entities else 0
        x[i, col["entities_shared"]] = min(shared, 3)
        x[i, col["entities_missing"]] = min(len(claim.entities) - shared, 3)
    return x


def article_features(candidates: CandidateSet, logits: np.ndarray) -> np.ndarray:
    """ARTICLE_FEATURES of every candidate article, given the sentence log-odds."""
    claim, sentences = candidates.claim, candidates.sentences
    x = np.zeros((len(candidates.articles), len(ARTICLE_FEATURES)))
    col = {name: i for i, name in enumerate(ARTICLE_FEATURES)}
    sent_col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    for k, rows in enumerate(candidates.article_rows):
        ordered = np.sort(logits[rows])[::-1]
        title = next((i for i in rows if sentences[i].ref.position == TITLE_POSITION), None)
        shared = len(candidates.entities_found(k))
        x[k, col["best_sentence"]] = ordered[0]
        x[k, col["second_sentence"]] = ordered[1] if len(ordered) > 1 else ordered[0] - SECOND_GAP
        x[k, col["coverage_article"]] = fusion.coverage(
            claim.stems, frozenset().union(*(_terms(sentences[i].sentence.text).stems for i in rows)))
        x[k, col["entities_shared"]] = min(shared, 3)
        x[k, col["entities_missing"]] = min(len(claim.entities) - shared, 3)
        if title is not None:
            x[k, col["title_cosine"]] = candidates.features[title, sent_col["cosine"]]
            x[k, col["title_bm25"]] = candidates.features[title, sent_col["bm25"]]
    return x


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value, ties broken by position."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def _entities_found(claim: PreparedClaim, sentences: Sequence[Sentence],
                    article_keys: Sequence[str] = ()) -> list[str]:
    """Keys of the claim's entities that the sentences (or, with
    ``article_keys``, the rest of their article) mention: the same key, a key
    whose words contain the other's ("trump" / "donald trump"), or all the
    key's words written in a sentence (NER missed the mention)."""
    if len(sentences) == 1:
        words = _terms(sentences[0].text).words
    else:
        words = frozenset().union(*(_terms(s.text).words for s in sentences))
    keys: list[frozenset[str]] | None = None  # built only if a claim entity is not written out
    found = []
    for entity, mine in zip(claim.entities, _key_words(tuple(e.key for e in claim.entities))):
        if not mine:
            continue
        if mine <= words:
            found.append(entity.key)
            continue
        if keys is None:
            keys = [k for s in sentences for k in _key_words(tuple(e.key for e in s.entities)) if k]
            keys += [k for k in _key_words(tuple(article_keys)) if k]
        if any(mine <= k or k <= mine for k in keys):
            found.append(entity.key)
    return found


def _article_entities_found(claim: PreparedClaim, stored: Sequence[StoredSentence]) -> list[str]:
    """The claim's entities that an article mentions: in the fetched
    sentences (text or entities) or anywhere in the article (its entity keys)."""
    return _entities_found(claim, [s.sentence for s in stored], stored[0].article_entities if stored else ())


@functools.lru_cache(maxsize=100_000)
def _key_words(keys: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(k.split()) for k in keys)


# --- figures ----------------------------------------------------------------------


def comparable(a: Quantity, b: Quantity) -> bool:
    """Same counted thing: equal ``counts`` and equal ``event``."""
    return a.counts == b.counts and a.event == b.event


def figures_agree(claim: Quantity, report: Quantity) -> bool:
    """Whether two figures for the same thing agree.

    The claim's figure says what is claimed, the report's what it gives.
    A claim of "at least X" is confirmed by a value from X (less the
    approximate tolerance) up to X x (1 + OPEN_BOUND_RANGE): tolls rise as
    bodies are counted, but "at least 20" is not 175 (and "at most X" the
    other way round). Otherwise exact vs exact:
    equal values; when either side is hedged ("around", "nearly", "two
    dozen", and a report's "at least"/"at most") values agree within
    APPROX_TOLERANCE of the larger one; a vague one ("dozens") within
    VAGUE_TOLERANCE. So a report of "at least six killed" does not agree
    with a claim of 20 killed: reports give their best count, and a reader
    wants to see who gives which number.
    """
    quals = {claim.qualifier, report.qualifier}
    a, b = claim.value, report.value
    if "vague" in quals:
        return abs(a - b) <= VAGUE_TOLERANCE * max(a, b)
    slack = APPROX_TOLERANCE * max(a, b)
    if claim.qualifier == "at_least":
        return a - slack <= b <= a * (1 + OPEN_BOUND_RANGE)
    if claim.qualifier == "at_most":
        return a / (1 + OPEN_BOUND_RANGE) <= b <= a + slack
    if quals == {"exact"}:
        return a == b
    return abs(a - b) <= slack


def agreement(claim_quantities: Sequence[Quantity], quantity: Quantity) -> Agreement:
    """``same`` if a claim figure for the same thing agrees, ``different`` if
    the claim has figures for that thing and none agrees, else ``absent``."""
    mine = [q for q in claim_quantities if comparable(q, quantity)]
    if not mine:
        return Agreement.ABSENT
    return Agreement.SAME if any(figures_agree(q, quantity) for q in mine) else Agreement.DIFFERENT


# --- news evidence ------------------------------------------------------------------------

#: Evidence the CheckThat! fit cannot weigh. CheckThat! pairs a tweet with a
#: one-sentence fact-check: figures almost never occur on both sides, and
#: "the article never names the claim's place" or "the article covers every
#: word of the claim" cannot happen, so the fitted models give these ~0 (or
#: wild) weights. In news they decide whether two reports are about the same
#: event. A second small logistic model (``fusion.load_news_model``, fitted
#: by bench/fit_news.py on the hand-judged news claims, with the fitted
#: article log-odds as offset) says what to add to the log-odds; see
#: docs/lookup.md, "Scores". It is fitted on articles and applied to their
#: sentences too (a sentence carries its article's entity and coverage
#: evidence and its own figures): sentence scores are an approximation.
NEWS_FEATURES = (
    "entities_missing",   # claim entities the whole article never mentions (at most 3)
    "figure_same",        # the sentence (article: one of its best two) gives the claim's figure
    "figure_different",   # it gives only other figures for a thing the claim counts
    "figure_far",         # ... and even the closest is off by a factor of FAR_FIGURE or more
    "coverage",           # IDF-weighted share of the claim's words in the article's fetched sentences
    "relative",           # log-odds the fitted sentence model gives for RELATIVE_FEATURES (article: best sentence)
)
#: The fitted features that compare a candidate with the claim's other
#: candidates: on CheckThat! a tweet has one fact-check, in news a claim has
#: many reports, so the news model may discount them.
RELATIVE_FEATURES = ("cosine_gap", "rank_vector", "rank_lexical")


#: An article's figure evidence is that of its best FIGURE_SENTENCES sentences.
FIGURE_SENTENCES = 2
#: Two figures for the same thing this many times apart are "far": outlets
#: disagree on tolls (the seeds: 20 and 27), rarely by a factor of two.
FAR_FIGURE = 2.0


def news_features(candidates: CandidateSet, fitted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NEWS_FEATURES per sentence row and per article, given the fitted
    sentence log-odds. A sentence carries its article's missing entities (the
    article is its context: "the city" in one sentence is named in another)
    and its own figures; an article its missing entities and the figures of
    its best FIGURE_SENTENCES sentences (a toll in an unrelated paragraph is
    no evidence). Vague figures ("dozens") are no evidence either way."""
    claim, sentences = candidates.claim, candidates.sentences
    rows = np.zeros((len(sentences), len(NEWS_FEATURES)))
    arts = np.zeros((len(candidates.articles), len(NEWS_FEATURES)))
    figures = [q for q in claim.quantities if q.qualifier != "vague"]
    model = _models().sentence
    relative = [model.features.index(n) for n in RELATIVE_FEATURES]
    z = (candidates.features[:, relative] - model.means[relative]) / model.scales[relative]
    rows[:, 5] = z @ model.weights[relative]
    for k, members in enumerate(candidates.article_rows):
        if claim.entities:
            found = candidates.entities_found(k)
            arts[k, 0] = min(len(claim.entities) - len(found), 3)
        for i in members:
            rows[i, 0] = arts[k, 0]
            if figures:
                given = [q for q in sentences[i].sentence.quantities if q.qualifier != "vague"]
                found = {agreement(figures, q) for q in given}
                rows[i, 1] = float(Agreement.SAME in found)
                if Agreement.SAME not in found and Agreement.DIFFERENT in found:
                    rows[i, 2] = 1.0
                    rows[i, 3] = float(min(_figure_ratio(a, b) for a in figures for b in given
                                           if comparable(a, b)) >= FAR_FIGURE)
        best = sorted(members, key=lambda i: -fitted[i])[:FIGURE_SENTENCES]
        arts[k, 1] = float(any(rows[i, 1] for i in best))
        different = [i for i in best if rows[i, 2]]
        if not arts[k, 1] and different:
            arts[k, 2] = 1.0
            arts[k, 3] = min(rows[i, 3] for i in different)
        arts[k, 4] = candidates.article_features[k, ARTICLE_FEATURES.index("coverage_article")]
        rows[members, 4] = arts[k, 4]
        arts[k, 5] = rows[best[0], 5]
    return rows, arts


def _figure_ratio(a: Quantity, b: Quantity) -> float:
    """Larger / smaller of two figures (a figure below 1 counts as 1)."""
    low, high = sorted((max(a.value, 1.0), max(b.value, 1.0)))
    return high / low


# --- scoring and grouping ---------------------------------------------------------------


def score(candidates: CandidateSet, models: fusion.Fusion | None = None) -> CandidateSet:
    """Fill the sentence and article scores (calibrated probabilities)."""
    models = models or _models()
    news = _news_model()
    fitted = models.sentence.logits(candidates.features)
    candidates.article_features = article_features(candidates, fitted)
    candidates.news_features, candidates.article_news_features = news_features(candidates, fitted)
    applies = news_applies(candidates.claim)
    candidates.logits = fitted + (news.logits(candidates.news_features) if applies else 0.0)
    candidates.scores = fusion.sigmoid(candidates.logits)
    candidates.article_scores = fusion.sigmoid(models.article.logits(candidates.article_features)
                                               + (news.logits(candidates.article_news_features) if applies else 0.0))
    return candidates


def news_applies(claim: PreparedClaim) -> bool:
    """Whether the news-evidence model scores this claim: it gives a figure
    (not a vague one), like every claim the model was fitted on. Other claims
    keep the CheckThat!-fitted score (docs/lookup.md, "News evidence")."""
    return any(q.qualifier != "vague" for q in claim.quantities)


def _news_model() -> fusion.FusionModel:
    model = fusion.load_news_model()
    if model.features != NEWS_FEATURES:
        raise fusion.FusionModelError(
            f"{fusion.NEWS_WEIGHTS_PATH} was fitted on features {model.features}, the lookup computes "
            f"{NEWS_FEATURES}; run bench/fit_news.py")
    return model


def _models() -> fusion.Fusion:
    models = fusion.load_fusion()
    for model, names in ((models.sentence, SENTENCE_FEATURES), (models.article, ARTICLE_FEATURES)):
        if model.features != names:
            raise fusion.FusionModelError(
                f"{fusion.WEIGHTS_PATH} was fitted on features {model.features}, the lookup computes "
                f"{names}; run bench/fit_fusion.py")
    return models


@dataclass(slots=True)
class _Group:
    """One article's scored candidate sentences, best first."""

    article_id: str
    index: int  # into CandidateSet.articles
    rows: list[int]  # sentence indices into the CandidateSet, best first
    score: float
    copies: list[_Group] = field(default_factory=list)


def group_by_article(candidates: CandidateSet) -> list[_Group]:
    """Articles best first (by article score), each with its sentence rows
    best first."""
    scores = candidates.scores
    groups = [_Group(article, k, sorted(rows, key=lambda i: -scores[i]), float(candidates.article_scores[k]))
              for k, (article, rows) in enumerate(zip(candidates.articles, candidates.article_rows))]
    return sorted(groups, key=lambda g: -g.score)


@functools.lru_cache(maxsize=50_000)
def _normalised_text(text: str) -> str:
    return " ".join(w for _, _, w in fusion.words(text.lower()))


def fold_copies(candidates: CandidateSet, groups: list[_Group]) -> list[_Group]:
    """Fold syndicated and re-posted copies into one report.

    Two articles are copies when their titles are the same once normalised
    (case, punctuation, spacing), or when their best sentences are the same
    and their titles' vectors are at least COPY_TITLE_COSINE close. A family
    of copies is led by its earliest-published article (undated ones count as
    latest; on a tie, the better-scored one); the lead takes the family's best
    score and lists the others as ``copies``. Groups stay best first.
    """
    sent = candidates.sentences
    families: list[list[_Group]] = []
    by_title: dict[str, int] = {}
    by_sentence: dict[str, list[int]] = {}
    for group in groups:
        best = sent[group.rows[0]]
        title = _normalised_text(best.title)
        text = _normalised_text(best.sentence.text)
        family = by_title.get(title) if title else None
        if family is None:
            vector = _title_vector([sent[i] for i in group.rows])
            family = next((f for f in by_sentence.get(text, ())
                           if _close(vector, _title_vector([sent[i] for i in families[f][0].rows]))), None)
        if family is None:
            family = len(families)
            families.append([])
            by_sentence.setdefault(text, []).append(family)
            if title:
                by_title[title] = family
        families[family].append(group)
    out = []
    for family in families:
        lead = min(family, key=lambda g: (_published_key(sent[g.rows[0]]), -g.score))
        lead.copies = [g for g in family if g is not lead]
        lead.score = max(g.score for g in family)
        out.append(lead)
    return sorted(out, key=lambda g: -g.score)


def _title_vector(sentences: Sequence[StoredSentence]) -> np.ndarray | None:
    return next((s.sentence.vector for s in sentences if s.ref.position == TITLE_POSITION), None)


def _close(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is not None and b is not None and float(a @ b) >= COPY_TITLE_COSINE


def _published_key(s: StoredSentence) -> tuple[int, str]:
    return (0, s.published.isoformat()) if s.published else (1, "")


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


def _report_sentence(candidates: CandidateSet, row: int, explain: bool) -> ReportSentence:
    stored = candidates.sentences[row]
    sentence = stored.sentence
    claim = candidates.claim
    evidence = _evidence(_models().sentence, candidates.features[row], candidates.news_features[row],
                         news_applies(claim)) if explain else None
    return ReportSentence(
        position=sentence.position, text=sentence.text, highlighted=highlight(sentence.text, claim.stems),
        score=round(float(candidates.scores[row]), 4), stance=sentence.stance, attributed_to=sentence.speaker,
        quantities=[QuantityAgreement(q, agreement(claim.quantities, q)) for q in sentence.quantities],
        evidence=evidence)


def _evidence(model: fusion.FusionModel, row: np.ndarray, news: np.ndarray, applies: bool) -> dict:
    """What ``explain`` shows: the features and their shares of the log-odds:
    the fitted model's (and its ``bias``), then, when the news model applies
    to the claim, its own, prefixed ``news_`` (and its ``news_bias``). The
    contributions add up to the logit of the score."""
    features = {n: round(float(v), 4) for n, v in zip(model.features, row)}
    contributions = model.contributions(row)
    if applies:
        news_model = _news_model()
        features.update({f"news_{n}": round(float(v), 4) for n, v in zip(news_model.features, news)})
        contributions.update({f"news_{n}": v for n, v in news_model.contributions(news).items()})
    return {"features": features, "contributions": contributions}


def _shown_rows(candidates: CandidateSet, group: _Group) -> list[int]:
    """The group's best sentence, then the others scoring at least
    SENTENCE_FLOOR, at most MAX_SENTENCES_PER_REPORT."""
    best, rest = group.rows[0], group.rows[1:]
    return [best, *(i for i in rest if candidates.scores[i] >= SENTENCE_FLOOR)][:MAX_SENTENCES_PER_REPORT]


def _copy(candidates: CandidateSet, group: _Group) -> Copy:
    s = candidates.sentences[group.rows[0]]
    return Copy(s.ref.article_id, s.source, s.published, s.url)


def build_report(candidates: CandidateSet, group: _Group, explain: bool = False) -> Report:
    """The report of one article group: its best sentences, copies, and the
    claim's entities it shares or misses (over the sentences fetched for it:
    its title and every candidate sentence)."""
    lead = candidates.sentences[group.rows[0]]
    shared = candidates.entities_found(group.index)
    keys = list(dict.fromkeys(e.key for e in candidates.claim.entities))
    return Report(
        article_id=lead.ref.article_id, title=lead.title, source=lead.source, published=lead.published,
        url=lead.url, score=round(group.score, 4),
        sentences=[_report_sentence(candidates, i, explain) for i in _shown_rows(candidates, group)],
        copies=[_copy(candidates, g) for g in group.copies],
        shared_entities=[k for k in keys if k in shared],
        missing_entities=[k for k in keys if k not in shared],
        evidence=_evidence(_models().article, candidates.article_features[group.index],
                           candidates.article_news_features[group.index],
                           news_applies(candidates.claim)) if explain else None)


def reports_for(candidates: CandidateSet, limit: int, min_score: float = 0.0, explain: bool = False,
                exclude: _Exclusion | None = None) -> list[Report]:
    """Scored candidates -> the best ``limit`` reports at or above ``min_score``.

    Only the best FOLD_DEPTH x ``limit`` articles are considered for folding:
    copies carry the same text, so they score alike and sit together."""
    groups = fold_copies(candidates, group_by_article(candidates)[:FOLD_DEPTH * limit + 2])
    if exclude is not None:
        groups = [g for g in groups if not exclude.covers(candidates, g)]
    return [build_report(candidates, g, explain) for g in groups[:limit] if g.score >= min_score]


@dataclass(slots=True)
class _Exclusion:
    """Articles that are never reports (the scanned article, ``exclude_articles``)
    and their copies: a candidate is a copy of one when their normalised titles
    are equal, or when its best sentence is one of that article's sentences and
    their titles' vectors are at least COPY_TITLE_COSINE close (the rule of
    ``fold_copies``)."""

    article_ids: frozenset[str]
    titles: frozenset[str]
    sentences: frozenset[str]
    title_vectors: list[np.ndarray]

    def covers(self, candidates: CandidateSet, group: _Group) -> bool:
        for g in (group, *group.copies):
            best = candidates.sentences[g.rows[0]]
            if best.ref.article_id in self.article_ids or _normalised_text(best.title) in self.titles:
                return True
            if _normalised_text(best.sentence.text) in self.sentences:
                vector = _title_vector([candidates.sentences[i] for i in g.rows])
                if any(_close(vector, v) for v in self.title_vectors):
                    return True
        return False


def _exclusion(articles: Sequence[tuple[Article, list[StoredSentence]]]) -> _Exclusion | None:
    """The exclusion of stored articles, each given with its stored sentences."""
    if not articles:
        return None
    return _Exclusion(
        frozenset(a.id for a, _ in articles), frozenset(_normalised_text(a.title) for a, _ in articles),
        frozenset(_normalised_text(s.text) for a, _ in articles for s in a.sentences),
        [s.sentence.vector for _, stored in articles for s in stored
         if s.ref.position == TITLE_POSITION and s.sentence.vector is not None])


def _excluded_articles(store: Store, article_ids: Sequence[str]) -> list[tuple[Article, list[StoredSentence]]]:
    """The stored articles of ``Filters.exclude_articles`` with their title
    sentence; ids not in the store are skipped (nothing to exclude)."""
    found = []
    for article_id in article_ids:
        try:
            article = store.get_article(article_id)
        except ArticleNotFound:
            continue
        found.append((article, store.get_sentences([SentenceRef(article_id, TITLE_POSITION)])))
    return found


# --- summary -------------------------------------------------------------------------


#: The summary counts the reports at least this likely to report the claim
#: ("as likely as not"); the others are listed but are probably other events.
SUMMARY_MIN_SCORE = 0.5


def summarise(reports: Sequence[Report], claim_quantities: Sequence[Quantity] = (),
              min_score: float = SUMMARY_MIN_SCORE) -> Summary:
    """Counts of reports, outlets and stances, and the figures table, over
    the reports scoring at least ``min_score``."""
    reports = [r for r in reports if r.score >= min_score]
    outlets = {s for r in reports for s in [r.source, *(c.source for c in r.copies)] if s}
    stances = {s.value: 0 for s in Stance}
    for report in reports:
        stances[report.sentences[0].stance.value] += 1
    return Summary(reports=len(reports), outlets=len(outlets), stances=stances,
                   figures=figures_table(reports, claim_quantities))


def figures_table(reports: Sequence[Report], claim_quantities: Sequence[Quantity] = ()) -> list[FigureRow]:
    """For each counted thing (counts + event) in the reports' sentences,
    each value given and the outlets giving it (an outlet is the report's
    source, or its id if it has none; copies add their sources). Things the
    claim counts come first, then the most reported; values by outlets."""
    table: dict[tuple[str, str], dict[float, list[str]]] = {}
    for report in reports:
        names = [report.source or report.article_id, *(c.source or c.article_id for c in report.copies)]
        for sentence in report.sentences:
            for qa in sentence.quantities:
                q = qa.quantity
                values = table.setdefault((q.counts, q.event), {})
                outlets = values.setdefault(q.value, [])
                outlets += [n for n in names if n not in outlets]
    claimed = {(q.counts, q.event) for q in claim_quantities}
    rows = [FigureRow(counts, event, sorted((FigureValue(v, o) for v, o in values.items()),
                                            key=lambda fv: (-len(fv.outlets), fv.value)))
            for (counts, event), values in table.items()]
    return sorted(rows, key=lambda r: ((r.counts, r.event) not in claimed,
                                       -sum(len(v.outlets) for v in r.values)))


# --- entry points -----------------------------------------------------------

#: Check-worthy sentences (scan) have at least this many words ...
SCAN_MIN_WORDS = 8
#: ... and a figure, a reporting or denial verb, or this many named actors.
SCAN_MIN_ACTORS = 2
_ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
#: Candidates per source and sentence in a scan (half a single lookup's: a
#: scan shows at most a few reports per sentence, and 30 sentences share one budget).
SCAN_CANDIDATES = 20
#: Default ``min_score`` of a scan: reports at least as likely as not.
SCAN_MIN_SCORE = 0.5


def find_reports(store: Store, request: LookupRequest) -> LookupResult:
    """Other reports of ``request.text``, best first, at most ``request.limit``.

    Raises ClaimTooShort if the cleaned text has fewer than
    MIN_CONTENT_WORDS content words, ValueError if ``limit`` or
    ``min_score`` is out of range.
    """
    _check_limits(request.limit, request.min_score)
    claim = prepare_claims([request.text])[0]
    candidates = score(candidate_sets(store, [claim], request.filters)[0])
    candidates = with_figure_sentences(store, candidates)
    exclusion = _exclusion(_excluded_articles(store, request.filters.exclude_articles))
    reports = reports_for(candidates, request.limit, request.min_score, request.explain, exclusion)
    return LookupResult(ClaimView(claim.text, claim.entities, claim.quantities), reports,
                        summarise(reports, claim.quantities))


#: Reports at least this likely to report the claim get every sentence of
#: theirs that gives a figure for a thing the claim counts (the figures table
#: needs them: a second toll is often in a sentence that matches little else).
FIGURE_REPORT_SCORE = 0.5
#: ... at most this many of them (a fixed number, so that a report's score
#: does not depend on the ``limit`` asked for).
FIGURE_REPORTS = 10


def with_figure_sentences(store: Store, candidates: CandidateSet) -> CandidateSet:
    """Add to the candidates, and rescore, the sentences of the best
    FIGURE_REPORTS articles scoring at least FIGURE_REPORT_SCORE that give a
    figure for a thing the claim counts and were not candidates yet (one
    ``get_article`` per such article, one ``get_sentences`` for all).

    The candidates' own sentence features are kept as they were: the added
    sentences get features relative to the whole set, but they never move
    the normalisation or ranks of the others, so an article without added
    sentences keeps its score. Unchanged if the news stage does not apply to
    the claim (no figure but vague ones) or nothing is missing."""
    claim = candidates.claim
    if not news_applies(claim) or not len(candidates.articles):
        return candidates
    best = [k for k in np.argsort(-candidates.article_scores, kind="stable")[:FIGURE_REPORTS]
            if candidates.article_scores[k] >= FIGURE_REPORT_SCORE]
    have = {s.ref for s in candidates.sentences}
    wanted: list[SentenceRef] = []
    for k in best:
        try:
            article = store.get_article(candidates.articles[k])
        except ArticleNotFound:  # deleted since the candidates were read
            continue
        wanted += [ref for s in article.sentences
                   if (ref := SentenceRef(article.id, s.position)) not in have
                   and any(comparable(c, q) for q in s.quantities for c in claim.quantities)]
    added = [s for s in store.get_sentences(wanted) if s.sentence.vector is not None] if wanted else []
    if not added:
        return candidates
    grown = _candidate_set(claim, candidates.sentences + added)
    grown.features[:len(candidates.sentences)] = candidates.features
    return score(grown)


def _check_limits(limit: int, min_score: float) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError("min_score must be between 0 and 1")


def check_worthiness(sentence: Sentence) -> str | None:
    """Why a sentence is worth looking up, or None.

    A sentence of at least SCAN_MIN_WORDS words is check-worthy if it gives a
    figure (``"figure"``), reports or denies what someone says (``"reporting
    verb"``: its stance is attributes or denies), or names at least
    SCAN_MIN_ACTORS distinct people, organisations, places or groups
    (``"actors"``). The first reason that applies is returned.
    """
    if len(sentence.text.split()) < SCAN_MIN_WORDS:
        return None
    if sentence.quantities:
        return "figure"
    if sentence.stance in (Stance.ATTRIBUTES, Stance.DENIES):
        return "reporting verb"
    if len({e.key for e in sentence.entities if e.label in _ACTOR_LABELS}) >= SCAN_MIN_ACTORS:
        return "actors"
    return None


def scan(store: Store, text: str | None = None, article_id: str | None = None,
         limit_per_claim: int = 3, filters: Filters = Filters(),
         min_score: float = SCAN_MIN_SCORE) -> ScanResult:
    """Look up every check-worthy sentence of an article (see
    ``check_worthiness``); every check-worthy sentence is listed, with the
    reports scoring at least ``min_score`` (possibly none).

    Give exactly one of ``text`` (raw article text: analysed once, its
    check-worthy sentences embedded in one batch) or ``article_id`` (an
    indexed article: its stored sentences and vectors are reused; the article
    itself and its copies are never reports). Raises ``ValueError`` if both
    or neither are given, ``ArticleNotFound`` for an unknown id.
    """
    if (text is None) == (article_id is None):
        raise ValueError("give exactly one of text or article_id")
    _check_limits(limit_per_claim, min_score)
    excluded = _excluded_articles(store, filters.exclude_articles)
    if article_id is not None:
        article, stored = _stored_article(store, article_id)
        sentences = [s.sentence for s in stored]
        excluded.append((article, stored))
        filters = replace(filters, exclude_articles=tuple(dict.fromkeys((*filters.exclude_articles, article_id))))
    else:
        sentences = _analysed_sentences(text or "")
    exclusion = _exclusion(excluded)
    worthy = [(s, reason) for s in sentences if (reason := check_worthiness(s))]
    if not worthy:
        return ScanResult([])
    missing = [s for s, _ in worthy if s.vector is None]
    if missing:
        for s, v in zip(missing, _embed([s.text for s in missing])):
            s.vector = v
    claims = [_sentence_claim(s) for s, _ in worthy]
    sets = _scan_candidates(store, claims, filters)
    return ScanResult([
        ScannedSentence(s.position, s.text, reason,
                        reports_for(score(c), limit_per_claim, min_score, exclude=exclusion))
        for (s, reason), c in zip(worthy, sets)])


def _scan_candidates(store: Store, claims: list[PreparedClaim], filters: Filters) -> list[CandidateSet]:
    return candidate_sets(store, claims, filters, limit=SCAN_CANDIDATES)


def _stored_article(store: Store, article_id: str) -> tuple[Article, list[StoredSentence]]:
    """The stored article and its sentences with their vectors."""
    article = store.get_article(article_id)
    return article, store.get_sentences([SentenceRef(article_id, s.position) for s in article.sentences])


def _analysed_sentences(text: str) -> list[Sentence]:
    from claimlookup import nlp

    return nlp.analyse_text(text)


def _sentence_claim(sentence: Sentence) -> PreparedClaim:
    from claimlookup import nlp

    vector = np.asarray(sentence.vector, dtype=np.float32).reshape(1, -1)
    return _prepared(sentence.text, [sentence], sentence.entities, sentence.quantities,
                     nlp.key_terms(sentence.text), vector)
