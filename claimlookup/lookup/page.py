"""The scanned page: which of its sentences a scan looks up, why not the
others, and the places that give a short sentence its context.

A browser extension sends a page's visible text: menus, bylines, share
buttons, tag lists, teasers of other stories and footers around the article.
``read_page`` reads it as the indexer reads an article (the boilerplate rules
of ``claimlookup.clean``) but keeps the positions of the text as sent: the
whole text is analysed once and each sentence is marked with the rule that
dropped its line, if any. ``choose_sentences`` then keeps the check-worthy
sentences (``check_worthiness``) and says why each other sentence is skipped
(``skip_reason``). ``sentence_context``: the page's places, for a check-worthy
sentence that names none ("SOHR said 23 people were killed").

Pure functions over analysed sentences: no store, no embedder (the bench of
the check-worthy rule, ``bench/checkworthy.py``, calls them as the scan does).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from claimlookup.clean import MAX_HEADLINE_WORDS, clean_article, is_sentence
from claimlookup.lookup.results import SkippedSentence
from claimlookup.model import Article, EntityMention, Frame, Sentence

#: Check-worthy sentences (scan) that only name actors have at least this many words ...
SCAN_MIN_WORDS = 8
#: ... those that give a figure or report or deny a statement at least this
#: many ("Russia denied its planes had bombed Idlib." has 7).
SCAN_MIN_WORDS_STATED = 6
#: ... and a figure, a reporting or denial verb, or this many named actors.
SCAN_MIN_ACTORS = 2
_ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})

#: Why a sentence of a scanned text was not looked up (``SkippedSentence.reason``).
BOILERPLATE = "boilerplate"  # its line is page furniture (the cleaner's rule is in ``rule``)
TOO_SHORT = "too short"  # under SCAN_MIN_WORDS_STATED words, or names actors in under SCAN_MIN_WORDS
NO_CLAIM_SIGNAL = "no claim signal"  # no figure, no reporting or denial verb, fewer than 2 actors
OVER_THE_CAP = "over the cap"  # check-worthy, after the first MAX_SCAN_CLAIMS (service)

#: Entity labels that name a place (spaCy's; NER sometimes tags a place as a
#: person, and such a mention is not used as context).
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
#: A sentence that names no place is looked up with at most this many of the page's places.
CONTEXT_PLACES = 2
#: The page's lead: its title and this many first kept sentences.
LEAD_SENTENCES = 2
#: A page line taken as a title (the page's own indexed article is the one
#: with that title) has at least this many words: menus and labels have fewer.
PAGE_TITLE_WORDS = 4
#: "By Jane Doe", "Updated 10 years ago", "Wed Mar 2, 2016 5:40 PM": never the title.
_DATELINE_OR_BYLINE = re.compile(r"^(by|posted|published|updated|last updated?)\b|\b\d{1,2}:\d{2}\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Page:
    """A scanned text or a stored article, ready to choose sentences from.

    ``sentences``: every sentence, in order (a text's positions from 1, a
    stored article's title at 0). ``boilerplate``: position -> the cleaner's
    rule for each sentence on a line of page furniture (empty for a stored
    article: it was cleaned when indexed). ``title``: the sentence taken as
    the page's title, if any. ``headings``: the page's kept headline-shaped
    lines of at least PAGE_TITLE_WORDS words (the title, subheads): an
    indexed article titled so is the page itself. ``places``: the places
    that give a sentence naming none its context (``context_places``).
    """

    sentences: list[Sentence]
    boilerplate: dict[int, str]
    title: Sentence | None
    headings: tuple[str, ...]
    places: tuple[EntityMention, ...]

    @property
    def kept(self) -> list[Sentence]:
        """The sentences that are not page furniture, title included."""
        return [s for s in self.sentences if s.position not in self.boilerplate]


def read_page(text: str) -> Page:
    """Analyse ``text`` (one spaCy pass) and mark its furniture.

    Line breaks are normalised first (``\\r\\n`` and ``\\r`` become ``\\n``),
    as the cleaner does, so that its line numbers and the sentences' offsets
    agree; the paragraph component ends a sentence at every line break, so a
    sentence lies on one line and takes that line's rule."""
    from claimlookup import nlp

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    dropped = {d.line: d.rule for d in clean_article(text).dropped}
    line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    sentences = nlp.analyse_text(text)
    boilerplate = {s.position: rule for s in sentences
                   if (rule := dropped.get(bisect.bisect_right(line_starts, s.start)))}
    kept = [s for s in sentences if s.position not in boilerplate]
    return _page(sentences, boilerplate, _title(kept))


def page_of_article(article: Article) -> Page:
    """A stored article as a page: already cleaned, its title at position 0."""
    title = next((s for s in article.sentences if s.is_title), None)
    return _page(article.sentences, {}, title)


def _page(sentences: list[Sentence], boilerplate: dict[int, str], title: Sentence | None) -> Page:
    kept = [s for s in sentences if s.position not in boilerplate]
    headings = tuple(dict.fromkeys(s.text for s in kept if _is_heading(s.text)))
    return Page(sentences, boilerplate, title, headings, context_places(kept, title))


def _is_heading(text: str) -> bool:
    """A headline-shaped line (no final punctuation, PAGE_TITLE_WORDS to
    MAX_HEADLINE_WORDS words) that is not a dateline or a byline."""
    words = len(text.split())
    return (PAGE_TITLE_WORDS <= words <= MAX_HEADLINE_WORDS and not is_sentence(text)
            and not _DATELINE_OR_BYLINE.search(text))


def _title(kept: Sequence[Sentence]) -> Sentence | None:
    """The page's headline: the longest headline-shaped line (``_is_heading``)
    before its first full sentence of SCAN_MIN_WORDS words or more (menus,
    the site's name, kickers, datelines and bylines sit around the headline
    and are shorter or not headline-shaped); without one, the first kept
    sentence (the cleaner's title: a pasted paragraph's first sentence)."""
    before = []
    for s in kept:
        if is_sentence(s.text) and len(s.text.split()) >= SCAN_MIN_WORDS:
            break
        if _is_heading(s.text):
            before.append(s)
    if before:
        return max(before, key=lambda s: len(s.text.split()))  # the first of the longest
    return kept[0] if kept else None


# --- which sentences are looked up --------------------------------------------------


def _actors(sentence: Sentence) -> int:
    return len({e.key for e in sentence.entities if e.label in _ACTOR_LABELS})


def check_worthiness(sentence: Sentence) -> str | None:
    """Why a sentence is worth looking up, or None.

    A sentence is check-worthy if, with at least SCAN_MIN_WORDS_STATED words,
    it gives a figure (``"figure"``) or reports or denies what someone says
    (``"reporting verb"``: its frame is attributes or denies), or, with at
    least SCAN_MIN_WORDS words, names at least SCAN_MIN_ACTORS distinct
    people, organisations, places or groups (``"actors"``). The first reason
    that applies is returned.
    """
    words = len(sentence.text.split())
    if words < SCAN_MIN_WORDS_STATED:
        return None
    if sentence.quantities:
        return "figure"
    if sentence.stance in (Frame.ATTRIBUTES, Frame.DENIES):
        return "reporting verb"
    if words >= SCAN_MIN_WORDS and _actors(sentence) >= SCAN_MIN_ACTORS:
        return "actors"
    return None


def skip_reason(sentence: Sentence) -> str:
    """Why a sentence that is not check-worthy is not: ``TOO_SHORT`` (under
    SCAN_MIN_WORDS_STATED words, or naming actors in under SCAN_MIN_WORDS)
    or ``NO_CLAIM_SIGNAL``."""
    words = len(sentence.text.split())
    if words < SCAN_MIN_WORDS_STATED or (words < SCAN_MIN_WORDS and _actors(sentence) >= SCAN_MIN_ACTORS):
        return TOO_SHORT
    return NO_CLAIM_SIGNAL


@dataclass(frozen=True, slots=True)
class Choice:
    """The sentences a scan looks up (with their ``check_worthiness``
    reason, at most ``limit``, the first in the text) and the others, in
    text order, with why each is skipped."""

    worthy: list[tuple[Sentence, str]]
    skipped: list[SkippedSentence]

    @property
    def over_the_cap(self) -> int:
        return sum(1 for s in self.skipped if s.reason == OVER_THE_CAP)


def choose_sentences(page: Page, limit: int) -> Choice:
    """Every sentence of the page, looked up or skipped: furniture is
    ``BOILERPLATE`` (with the cleaner's rule), then the check-worthy ones
    are kept up to ``limit`` (the rest are ``OVER_THE_CAP``), and each other
    sentence gets its ``skip_reason``."""
    worthy: list[tuple[Sentence, str]] = []
    skipped: list[SkippedSentence] = []
    for s in page.sentences:
        rule = page.boilerplate.get(s.position)
        reason = None if rule else check_worthiness(s)
        if rule:
            skipped.append(SkippedSentence(s.position, s.text, BOILERPLATE, rule))
        elif reason is None:
            skipped.append(SkippedSentence(s.position, s.text, skip_reason(s)))
        elif len(worthy) >= limit:
            skipped.append(SkippedSentence(s.position, s.text, OVER_THE_CAP))
        else:
            worthy.append((s, reason))
    return Choice(worthy, skipped)


# --- context ------------------------------------------------------------------------


def context_places(kept: Sequence[Sentence], title: Sentence | None) -> tuple[EntityMention, ...]:
    """The page's places, at most CONTEXT_PLACES, best first: the places
    where something happens ("in Idlib", "bombed Idlib", "the city of
    Idlib": ``_is_locative``), or, if the page names none so, the places it
    names as actors ("Russia denied"); those its title names first, then
    those of its lead (the first LEAD_SENTENCES sentences after the title),
    then the others; then the most often named, then the first named. Places are read
    from the title and the sentences of SCAN_MIN_WORDS_STATED words or more
    (a menu's "Middle East" is not the page's place). One mention (the
    first) per entity key."""
    prose = [s for s in kept if s is title or len(s.text.split()) >= SCAN_MIN_WORDS_STATED]
    start = next((i + 1 for i, s in enumerate(prose) if s is title), 0)
    tier = {id(s): 1 for s in prose[start:start + LEAD_SENTENCES]}
    if title is not None:
        tier[id(title)] = 0
    first: dict[str, EntityMention] = {}
    counts: dict[str, int] = {}
    best: dict[str, int] = {}
    locative: set[str] = set()
    for s in prose:
        for e in s.entities:
            if e.label not in PLACE_LABELS:
                continue
            first.setdefault(e.key, e)
            counts[e.key] = counts.get(e.key, 0) + 1
            best[e.key] = min(best.get(e.key, 2), tier.get(id(s), 2))
            if _is_locative(s.text, e):
                locative.add(e.key)
    order = list(first)
    ranked = sorted(order, key=lambda k: (best[k], -counts[k], order.index(k)))
    if locative:
        ranked = [k for k in ranked if k in locative]
    return tuple(first[k] for k in ranked[:CONTEXT_PLACES])


#: "in", "near", "on" ..., "the city of", "province of" ..., or a verb of
#: attack ("bombed", "struck", "shelled" ...), then at most three of: the,
#: capitalised words ("Syria's"), hyphenated adjectives ("rebel-held"),
#: compass adjectives ("northwestern"), before a place: where it happens.
_LOCATIVE_BEFORE = re.compile(
    r"(?:\b(?:in|near|at|on|outside|around|across|into|inside"
    r"|bomb(?:s|ed|ing)?|struck|strikes?|striking|hit(?:s|ting)?|shell(?:s|ed|ing)?|pound(?:s|ed|ing)?"
    r"|attack(?:s|ed|ing)?|raid(?:s|ed|ing)?|target(?:s|ed|ing)?|besieged?)"
    r"|\b(?:city|town|province|village|district|region|area|countryside|suburbs?|outskirts"
    r"|neighbou?rhoods?|camp|governorate) of)"
    r"(?:\s+(?:the|[A-Z][\w'’]*|\w+-[\w-]+|(?:north|south|east|west)\w*)){0,3}\s+$")
#: How far before a mention the locative cue is looked for (a bounded
#: window: the pattern is anchored at the end and must stay linear).
_LOCATIVE_WINDOW = 80


def _is_locative(text: str, mention: EntityMention) -> bool:
    """Is the place mentioned as where something happens ("in Idlib")?"""
    return bool(_LOCATIVE_BEFORE.search(text[max(0, mention.start - _LOCATIVE_WINDOW):mention.start]))


def sentence_context(sentence: Sentence, page: Page) -> list[EntityMention]:
    """The page's places to look ``sentence`` up with: none if it names a
    place itself, else ``page.places``."""
    if any(e.label in PLACE_LABELS for e in sentence.entities):
        return []
    return list(page.places)


def with_context(text: str, places: Sequence[str]) -> str:
    """The text a sentence is looked up as: itself, then its context places
    (as written on the page) in brackets ("SOHR said 23 people were killed.
    (Idlib, Syria)")."""
    return f"{text} ({', '.join(places)})" if places else text
