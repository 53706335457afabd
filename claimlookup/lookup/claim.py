"""The claim: cleaning (tweets, URLs, tags), analysis and embedding."""

from __future__ import annotations

import html
import os
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from claimlookup import caches, fusion, language
from claimlookup.lookup.results import MIN_CONTENT_WORDS, ClaimNotEnglish, ClaimTooShort
from claimlookup.model import EntityMention, Quantity, Sentence

# --- claim normalisation ------------------------------------------------------

# "— Jane Doe (@janedoe) January 6, 2020": the trailer of a copied tweet.
# Every pattern here is linear in the text (docs/nlp.md, "Linear-time text
# rules"): a match may start only at the start of a whitespace run or of a dash
# run (the lookbehinds), runs are taken possessively, and the name ends in a
# non-space, so no run is rescanned from each of its positions.
_TWEET_TRAILER = re.compile(
    r"(?:(?<!\s)\s++|(?<![\u2014\u2013]))[\u2014\u2013]++\s*+"
    r"((?:[^\u2014\u2013\n]{0,79}?[^\s\u2014\u2013])??)\s*+\(@\w++\)\s*+"
    r"(?:[A-Z][a-z]+\.? \d{1,2}, \d{4}|$)")
_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*", re.IGNORECASE)
_VIA = re.compile(r"(?<!\s)\s*+\bvia\s++@\w+", re.IGNORECASE)
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
    Raise ClaimTooShort for the first claim with too few content words,
    ClaimNotEnglish for the first that is clearly in another language.

    The length check needs only ``nlp.key_terms`` (a regex); spaCy then runs
    on the analysis thread while the embedder runs here (onnxruntime releases
    the GIL), which saves the shorter of the two on an idle core."""
    from claimlookup import nlp

    cleaned = [normalise_claim(text) for text in texts]
    for text in cleaned:
        words = content_words(nlp.key_terms(text))
        if words < MIN_CONTENT_WORDS:
            raise ClaimTooShort(words)
        guessed = language.guess(text)
        if not guessed.english:
            raise ClaimNotEnglish(guessed.language, guessed.reason)
    analyses = _analysis_thread().submit(lambda: [nlp.analyse_claim(text) for text in cleaned])
    vectors = _embed(cleaned)
    return [_prepared(text, a.sentences, a.entities, a.quantities, a.key_terms, vectors[i:i + 1])
            for i, (text, a) in enumerate(zip(cleaned, analyses.result(), strict=True))]


#: caches.CLAIM_ANALYSIS: (process id, its pool), created on first use.
_ANALYSIS: tuple[int, ThreadPoolExecutor] | None = None


def _analysis_thread() -> ThreadPoolExecutor:
    """One thread per process for spaCy (so lookups never run the pipeline
    concurrently); created on first use, and again in a forked child."""
    global _ANALYSIS
    if _ANALYSIS is None or _ANALYSIS[0] != os.getpid():
        _ANALYSIS = (os.getpid(), ThreadPoolExecutor(max_workers=caches.bound(caches.CLAIM_ANALYSIS),
                                                     thread_name_prefix="claim-analysis"))
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


