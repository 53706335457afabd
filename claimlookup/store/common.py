"""What both store adapters share: the few rules of the ``Store`` protocol that
are not about a backend, written once so that SQLite and Elasticsearch cannot
drift apart.

* ``lead_snippet``: the listing snippet (the start of a text, cut at a word,
  HTML-escaped) shown when a search has no words to highlight;
* ``parse_date``: a stored ISO date (or the date part of a timestamp) back
  into a ``date``;
* ``validate_search_request``: the levels, sorts and paging a search accepts;
* ``write_status``, ``plan_writes``, ``write_outcome`` and
  ``require_sentences``: the new / updated / unchanged decision of a write,
  made by comparing content hashes, and what it reports;
* ``query_vectors``: the query matrix of ``vector_candidates``.

Vector serialisation (``to_blob`` / ``from_blob``) lives in
``claimlookup.embed``, next to the embedder that fixes the format.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import numpy as np

from claimlookup.model import Article, SearchRequest, WriteOutcome, WriteStatus

#: Listing snippets: this many characters of the body (or sentence) at most.
LEAD_CHARS = 240
SEARCH_LEVELS = ("article", "sentence")
SEARCH_SORTS = ("relevance", "date")


# --- reading -----------------------------------------------------------------


def lead_snippet(text: str, limit: int = LEAD_CHARS) -> str:
    """The start of ``text`` cut at a word boundary, HTML-escaped (listings)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return html.escape(text)
    cut = text.rfind(" ", 0, limit)
    return html.escape(text[:cut if cut > 0 else limit]) + "\u2026"


def parse_date(value: str | None) -> date | None:
    """A stored ``YYYY-MM-DD`` (anything after the first ten characters, such
    as a time of day, is ignored); None for no date."""
    return date.fromisoformat(value[:10]) if value else None


def validate_search_request(request: SearchRequest) -> None:
    """ValueError for a level, sort, page or size no store accepts. Callers
    (the API, the lookup) validate first: here these are programming errors."""
    if request.level not in SEARCH_LEVELS:
        raise ValueError(f"level must be 'article' or 'sentence', not {request.level!r}")
    if request.sort not in SEARCH_SORTS:
        raise ValueError(f"sort must be 'relevance' or 'date', not {request.sort!r}")
    if request.page < 1 or request.size < 1:
        raise ValueError("page and size must be at least 1")


def query_vectors(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as a float32 matrix, one row per query; ValueError otherwise."""
    queries = np.asarray(vectors, dtype=np.float32)
    if queries.ndim != 2:
        raise ValueError("vectors must be a 2-d array (one row per query)")
    return queries


# --- writing -----------------------------------------------------------------


def require_sentences(article: Article) -> None:
    """Only analysed articles (with sentences) can be written."""
    if not article.sentences:
        raise ValueError(f"article {article.id!r} has no sentences: analyse it before writing")


def write_status(stored_hash: str | None, content_hash: str) -> WriteStatus:
    """new (nothing stored), unchanged (same content hash) or updated."""
    if stored_hash is None:
        return WriteStatus.NEW
    if stored_hash == content_hash:
        return WriteStatus.UNCHANGED
    return WriteStatus.UPDATED


def plan_writes(batch: Sequence[Article], stored: Mapping[str, str]) -> list[WriteStatus]:
    """new / updated / unchanged for each article, given stored content hashes."""
    return [write_status(stored.get(article.id), article.content_hash) for article in batch]


def write_outcome(article: Article, status: WriteStatus) -> WriteOutcome:
    """What a write reports: the counts written (``unchanged`` writes nothing)."""
    if status is WriteStatus.UNCHANGED:
        return WriteOutcome(article.id, status)
    return WriteOutcome(article.id, status, sentences=len(article.sentences), entities=len(article.entities))


def spellings_by_key(counts: Iterable[tuple[str, str, int]], limit: int) -> dict[str, list[str]]:
    """``Store.entity_spellings`` from (key, name, articles) rows: names
    compared without case (each shown in the casing with most articles; on
    a tie, the one not in capitals, then the first alphabetically), most
    articles first, then alphabetical; at most ``limit`` per key."""
    folded: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for key, name, articles in counts:
        folded.setdefault(key, {}).setdefault(name.casefold(), []).append((articles, name))
    out: dict[str, list[str]] = {}
    for key, forms in folded.items():
        shown = []
        for variants in forms.values():
            articles = sum(n for n, _ in variants)
            name = min(variants, key=lambda v: (-v[0], v[1].isupper(), v[1]))[1]
            shown.append((articles, name))
        out[key] = [name for _, name in sorted(shown, key=lambda v: (-v[0], v[1]))[:limit]]
    return out
