"""The lookup service: the two entry points that take a ``Store``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from claimlookup import caches, parallel
from claimlookup.lookup import claim as _claim
from claimlookup.lookup.claim import PreparedClaim, _prepared, prepare_claims
from claimlookup.lookup.features import _candidate_set, candidate_sets, candidate_sets_without
from claimlookup.lookup.figures import comparable
from claimlookup.lookup.grouping import _excluded_articles, _exclusion
from claimlookup.lookup.page import (  # noqa: F401  (re-exported: the scan's rule)
    SCAN_MIN_ACTORS,
    SCAN_MIN_WORDS,
    SCAN_MIN_WORDS_STATED,
    Page,
    check_worthiness,
    choose_sentences,
    page_of_article,
    read_page,
    sentence_context,
    with_context,
)
from claimlookup.lookup.reads import stored_articles
from claimlookup.lookup.reports import reports_for, summarise
from claimlookup.lookup.results import (
    MAX_LIMIT,
    ClaimView,
    LookupRequest,
    LookupResult,
    ScannedSentence,
    ScanResult,
)
from claimlookup.lookup.scoring import ScoredCandidates, news_applies, score
from claimlookup.model import Article, EntityMention, Filters, Sentence, SentenceRef, StoredSentence
from claimlookup.settings import Settings
from claimlookup.store.base import Store

# --- entry points -----------------------------------------------------------

#: Candidates per source and sentence in a scan (half a single lookup's: a
#: scan shows at most a few reports per sentence, and 30 sentences share one budget).
SCAN_CANDIDATES = 20
#: A scan judges (relation model) only the candidate articles whose ranking
#: score is at least this (the ranking's probability, relative to the other
#: candidates; the scan before the relation model showed only those at 0.5 or
#: more), with at most SCAN_SENTENCES sentences each: 30 sentences share one
#: budget, and the model costs ~12 ms per article on one core.
SCAN_RANKING_FLOOR = 0.2
SCAN_SENTENCES = 1
#: Default ``min_score`` of a scan: reports at least as likely as not.
SCAN_MIN_SCORE = 0.5
#: A scan looks up at most this many check-worthy sentences, the first in the
#: text (an article's lead carries its main claims); the rest are skipped as
#: "over the cap" and counted in ``ScanResult.unchecked`` (the API's ``truncated``). A news article has 5-30;
#: this bounds one request's work (a 100,000-character text of short claims
#: had 2,151 and cost 10-19 s of CPU).
MAX_SCAN_CLAIMS = 50


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


def with_figure_sentences(store: Store, candidates: ScoredCandidates) -> ScoredCandidates:
    """The candidates plus, all rescored (a new value), the sentences of the
    best FIGURE_REPORTS articles scoring at least FIGURE_REPORT_SCORE that
    give a figure for a thing the claim counts and were not candidates yet
    (the articles read in one batch where the store can, then one
    ``get_sentences`` for all).

    The candidates' own sentence features are kept as they were: the added
    sentences get features relative to the whole set, but they never move
    the normalisation or ranks of the others, so an article without added
    sentences keeps its score. Unchanged if the news stage does not apply to
    the claim (no figure but vague ones) or nothing is missing (the same
    value is returned)."""
    claim = candidates.claim
    if not news_applies(claim) or not len(candidates.articles):
        return candidates
    best = [k for k in np.argsort(-candidates.article_scores, kind="stable")[:FIGURE_REPORTS]
            if candidates.article_scores[k] >= FIGURE_REPORT_SCORE]
    have = {s.ref for s in candidates.sentences}
    wanted: list[SentenceRef] = []
    for article in stored_articles(store, [candidates.articles[k] for k in best]):  # deleted ones left out
        wanted += [ref for s in article.sentences
                   if (ref := SentenceRef(article.id, s.position)) not in have
                   and any(comparable(c, q) for q in s.quantities for c in claim.quantities)]
    added = [s for s in store.get_sentences(wanted) if s.sentence.vector is not None] if wanted else []
    if not added:
        return candidates
    return score(_candidate_set(claim, candidates.sentences + added, candidates.features))


def _check_limits(limit: int, min_score: float) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError("min_score must be between 0 and 1")


def scan(store: Store, text: str | None = None, article_id: str | None = None,
         limit_per_claim: int = 3, filters: Filters = Filters(),
         min_score: float = SCAN_MIN_SCORE) -> ScanResult:
    """Look up every check-worthy sentence of an article (see
    ``page.check_worthiness``); every check-worthy sentence is listed, with
    the reports scoring at least ``min_score`` (possibly none), and every
    other sentence in ``skipped`` with why.

    Give exactly one of ``text`` (raw article text, as a browser extension
    sends a page: analysed once, its lines of page furniture skipped by the
    indexer's boilerplate rules, its check-worthy sentences embedded in one
    batch) or ``article_id`` (an indexed article: its stored sentences and
    vectors are reused; the article itself and its copies are never
    reports). A sentence that names no place is looked up with the page's
    places (``page.sentence_context``). Raises ``ValueError`` if both or
    neither are given, ``ArticleNotFound`` for an unknown id.
    """
    if (text is None) == (article_id is None):
        raise ValueError("give exactly one of text or article_id")
    _check_limits(limit_per_claim, min_score)
    page, excluded, filters = _scanned_page(store, text, article_id, filters)
    choice = choose_sentences(page, MAX_SCAN_CLAIMS)
    if not choice.worthy:
        return ScanResult([], 0, choice.skipped)
    contexts = [sentence_context(s, page) for s, _ in choice.worthy]
    claims = _scan_claims(choice.worthy, contexts, page.title if article_id is None else None)
    # A scanned text is often a page that is itself indexed (the browser
    # extension's case): its title (with its vector), headings and sentences
    # identify it and its copies, by the rule for an indexed article.
    own_page = [] if article_id is not None else [*([page.title] if page.title else []),
                                                  *(s for s in page.kept if s is not page.title)]
    exclusion = _exclusion(excluded, own_page)
    if article_id is None:  # without the page's own indexed articles, as for an indexed article's own id
        sets, _ = candidate_sets_without(store, claims, filters, SCAN_CANDIDATES,
                                         lambda found: _page_articles(found, page), PAGE_MARGIN)
    else:
        sets = candidate_sets(store, claims, filters, limit=SCAN_CANDIDATES)
    # The claims are judged on the cores other requests leave idle (claimlookup.parallel).
    reports = parallel.shared(sets, lambda c: reports_for(score(c), limit_per_claim, min_score, exclude=exclusion,
                                                          ranking_floor=SCAN_RANKING_FLOOR, sentences=SCAN_SENTENCES),
                              Settings.from_env().relation_threads, caches.SCAN_HELPERS)
    return ScanResult([
        ScannedSentence(s.position, s.text, reason, found, [e.text for e in context])
        for (s, reason), context, found in zip(choice.worthy, contexts, reports, strict=True)],
        choice.over_the_cap, choice.skipped)


def _scanned_page(store: Store, text: str | None, article_id: str | None, filters: Filters
                  ) -> tuple[Page, list[tuple[Article, list[StoredSentence]]], Filters]:
    """The page to scan, the articles never to report (with their stored
    sentences), and the filters (an indexed article's own id excluded)."""
    excluded = _excluded_articles(store, filters.exclude_articles)
    if article_id is None:
        return read_page(text or ""), excluded, filters
    article, stored = _stored_article(store, article_id)
    excluded.append((article, stored))
    filters = replace(filters, exclude_articles=tuple(dict.fromkeys((*filters.exclude_articles, article_id))))
    return page_of_article(replace(article, sentences=[s.sentence for s in stored])), excluded, filters


def _scan_claims(worthy: list[tuple[Sentence, str]], contexts: list[list[EntityMention]],
                 title: Sentence | None) -> list[PreparedClaim]:
    """The claims of a scan: each check-worthy sentence with its context.
    Those without a vector (a scanned text's) are embedded as looked up (with
    their context), in one batch with the page's title (its vector is the
    copy rule's); a stored article's sentences keep their stored vectors."""
    texts = [with_context(s.text, [e.text for e in context]) for (s, _), context in zip(worthy, contexts, strict=True)]
    missing = [i for i, (s, _) in enumerate(worthy) if s.vector is None]
    extra = [title] if title is not None and title.vector is None and title.text not in texts else []
    vectors: dict[int, np.ndarray] = {}
    if missing or extra:
        embedded = _claim._embed([texts[i] for i in missing] + [t.text for t in extra])
        vectors = {i: embedded[n] for n, i in enumerate(missing)}
        for t, v in zip(extra, embedded[len(missing):], strict=True):
            t.vector = v
    if title is not None and title.vector is None:  # the title is a claim too: its own text's vector
        title.vector = vectors[texts.index(title.text)]
    return [_sentence_claim(s, context, text, vectors.get(i, s.vector))
            for i, ((s, _), context, text) in enumerate(zip(worthy, contexts, texts, strict=True))]


#: A candidate article sharing this many sentences (of PAGE_SENTENCE_WORDS
#: words or more) word for word with a scanned text is that page as indexed.
PAGE_SHARED_SENTENCES = 2
PAGE_SENTENCE_WORDS = 8
#: A scanned text's candidate searches ask each source for this many more
#: than SCAN_CANDIDATES, so that the page's own articles can be left out of
#: the same answer (``features.candidate_sets_without``): the page itself
#: and its copies take a few of each claim's best hits.
PAGE_MARGIN = SCAN_CANDIDATES


def _page_articles(found: Iterable[StoredSentence], page: Page) -> set[str]:
    """The scanned page's own indexed articles among the sentences ``found``
    for its claims (with their articles' titles): those whose title is the
    page's title or one of its headings, or which share at least
    PAGE_SHARED_SENTENCES long sentences with it word for word. The scan
    leaves them out, as it leaves out an indexed article's own id (the
    ranking is relative to the best candidate, and the page itself would
    always be that)."""
    from claimlookup.lookup.grouping import _normalised_text

    titles = {_normalised_text(t) for t in (*page.headings, *([page.title.text] if page.title else []))} - {""}
    texts = {_normalised_text(s.text) for s in page.kept if len(s.text.split()) >= PAGE_SENTENCE_WORDS}
    shared: dict[str, set[str]] = {}
    own = set()
    for s in found:
        if _normalised_text(s.title) in titles:
            own.add(s.ref.article_id)
        text = _normalised_text(s.sentence.text)
        if text in texts:
            shared.setdefault(s.ref.article_id, set()).add(text)
    return own | {a for a, found_texts in shared.items() if len(found_texts) >= PAGE_SHARED_SENTENCES}


def _stored_article(store: Store, article_id: str) -> tuple[Article, list[StoredSentence]]:
    """The stored article and its sentences with their vectors."""
    article = store.get_article(article_id)
    return article, store.get_sentences([SentenceRef(article_id, s.position) for s in article.sentences])


def _sentence_claim(sentence: Sentence, context: list[EntityMention], text: str,
                    vector: np.ndarray | None) -> PreparedClaim:
    """A check-worthy sentence as a claim: looked up as ``text`` (the
    sentence with its context places, ``page.with_context``), with those
    places among its entities, and ``vector`` (of ``text``, or the stored
    sentence's)."""
    from claimlookup import nlp

    if vector is None:
        raise ValueError(f"sentence {sentence.position} has no vector")
    matrix = np.asarray(vector, dtype=np.float32).reshape(1, -1)
    return _prepared(text, [sentence], [*sentence.entities, *context], sentence.quantities,
                     nlp.key_terms(text), matrix)
