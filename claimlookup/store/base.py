"""The Store protocol: what the indexer, the lookup and the API need from a
search store. Behaviour is defined here, in docstrings; every adapter passes
the one contract suite in ``tests/contract/``.

Adapters translate their driver's errors into the exceptions below
(``raise StoreUnavailable(...) from e``) and never let rows or hits escape:
everything in and out is a ``claimlookup.model`` dataclass. Constructing an
adapter never touches the disk or the network; ``setup()`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from claimlookup.model import (
    Article,
    Candidate,
    EntityCount,
    Filters,
    ParsedQuery,
    SearchPage,
    SearchRequest,
    SentenceRef,
    SourceCount,
    StoredSentence,
    WriteOutcome,
)

#: Search results are paged only within the first MAX_RESULT_WINDOW (``page * size``):
#: the API refuses deeper pages, and Elasticsearch's ``index.max_result_window``
#: (``es-mapping.json``) is this value.
MAX_RESULT_WINDOW = 10_000


#: At most this many spellings per entity key from ``Store.entity_spellings``.
SPELLINGS_PER_ENTITY = 12

class StoreError(Exception):
    """Base class of every error a store raises."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached or answered with a server-side failure.
    The API answers 503 with Retry-After."""


class StoreRebuilding(StoreUnavailable):
    """A write refused for a few seconds while ``rebuild()`` swaps the
    rebuilt index in (it would be lost otherwise). Retry after a few seconds:
    the API answers 503 with Retry-After, as for any ``StoreUnavailable``."""

    problem_detail = "A rebuilt index is being swapped in; writes are refused for a few seconds. Try again."


class ArticleNotFound(StoreError, KeyError):
    """No article has this id."""


class StoreCorrupt(StoreError):
    """The store exists but fails its integrity check."""


@runtime_checkable
class Store(Protocol):
    """A search store of analysed articles.

    Identity: an article is identified by ``Article.id``. Writing an article
    whose id exists replaces it entirely (sentences, entities, quantities,
    vectors): no orphans remain. Writing it with the same ``content_hash``
    changes nothing and reports ``unchanged``.

    Atomicity: each article is written atomically. A crash or kill at any
    moment leaves every article either fully old or fully new.

    Sentences: position 0 is the title, 1..n the body in order. Lexical and
    vector candidates cover titles and body sentences alike.
    """

    def setup(self) -> None:
        """Create the store (tables, index, alias) if missing. Idempotent."""

    def close(self) -> None:
        """Release connections. Safe to call twice."""

    def ping(self) -> None:
        """Return if the store answers; raise StoreUnavailable otherwise."""

    # --- writing ---------------------------------------------------------

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """Map each stored id among ``ids`` to its content hash; unknown ids are
        absent from the result. Lets the indexer skip unchanged articles before
        any NLP work."""

    def write_articles(self, articles: Iterable[Article], *, posted: bool = False) -> Iterator[WriteOutcome]:
        """Write analysed articles (each with sentences), yielding one outcome per
        article in input order. Lazy: nothing is written until iterated.

        ``posted=True``: the articles came through the API (``POST
        /v1/articles``), so the store holds their only copy: ``rebuild()``
        carries them. A later write without it (the indexer) ends that."""

    def delete_article(self, article_id: str) -> None:
        """Delete an article and everything derived from it.
        Raise ArticleNotFound if there is none."""

    def rebuild(self) -> AbstractContextManager[Store]:
        """Context manager yielding an empty store of the same kind. Everything
        written to it replaces this store's contents atomically when the block
        exits without error; on error the new data is discarded and this store
        is untouched. Readers never see a half-built index.

        No posted article is lost: every article of this store whose latest
        write was posted (before or during the rebuild) is carried into the new
        contents, replacing the rebuilt version of its id when it was posted
        after the rebuild began; one deleted during the rebuild stays deleted.
        Writes that arrive while the new contents are swapped in are refused
        with ``StoreRebuilding``. Other writes to this store during the
        rebuild (the indexer's) are lost."""

    # --- reading ---------------------------------------------------------

    def get_article(self, article_id: str) -> Article:
        """The article with its sentences (vectors omitted). Raise
        ArticleNotFound."""

    def search(self, request: SearchRequest) -> SearchPage:
        """Full-text search. An empty query matches every article (listing).

        ``level="article"``: one hit per article, scored over title and body.
        ``level="sentence"``: one hit per sentence. ``sort="date"``: newest
        first, undated last. ``total`` counts all matches, not the page.
        Snippets are HTML-escaped with ``<mark>`` around matched words.
        Facets (if requested) count articles over all matches.
        """

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        """Entities whose key or name starts with ``prefix`` (case-insensitive),
        most articles first."""

    def entity_spellings(self, keys: Sequence[str], limit: int = SPELLINGS_PER_ENTITY) -> dict[str, list[str]]:
        """How the mentions of each entity key are written in the store: its
        distinct names (as written, compared without case), in most articles
        first, at most ``limit`` per key; keys without mentions are left out.
        Search uses them so that one spelling finds the others."""

    def sources(self) -> list[SourceCount]:
        """Every source with its article count, most articles first."""

    def count_articles(self) -> int:
        """How many articles the store holds."""

    # --- claim lookup candidates ----------------------------------------

    def lexical_candidates(self, query: ParsedQuery, filters: Filters, limit: int,
                           restrict_to: Sequence[SentenceRef] | None = None) -> list[Candidate]:
        """Sentences (titles included) ranked by BM25 for ``query``, best first.
        With ``restrict_to``, score only those sentences (those that do not
        match get no candidate)."""

    def vector_candidates(self, vectors: np.ndarray, filters: Filters, limit: int) -> list[list[Candidate]]:
        """For each row of ``vectors`` (n x dim, L2-normalised), the ``limit``
        nearest sentences by cosine similarity, best first."""

    def get_sentences(self, refs: Sequence[SentenceRef]) -> list[StoredSentence]:
        """The referenced sentences with their vectors and article facts, in the
        order of ``refs``; refs that no longer exist are left out."""


# --- optional capabilities: batched reads ------------------------------------
#
# Not part of ``Store``: a store over the network (Elasticsearch) offers them
# to save round trips; the in-process SQLite store gains nothing from them.
# The lookup checks for them with ``isinstance`` (``claimlookup.lookup.reads``)
# and otherwise makes the ``Store`` calls one by one, with the same results.


@dataclass(frozen=True, slots=True)
class FoundCandidates:
    """What ``BatchedCandidates.find_candidates`` returns: ``lexical[i]``, the
    lexical candidates of ``queries[i]``; ``vector[r]``, the vector
    candidates of row ``r`` of the vectors."""

    lexical: list[list[Candidate]]
    vector: list[list[Candidate]]


@runtime_checkable
class BatchedCandidates(Protocol):
    """A store that answers all of a lookup's candidate searches at once."""

    def find_candidates(self, queries: Sequence[ParsedQuery], vectors: np.ndarray, filters: Filters, *,
                        lexical_limit: int, vector_limit: int) -> FoundCandidates:
        """Exactly ``[lexical_candidates(q, filters, lexical_limit) for q in
        queries]`` and ``vector_candidates(vectors, filters, vector_limit)``
        (``[]`` for a matrix of no rows), in as few requests as the store can."""


@runtime_checkable
class BatchedArticles(Protocol):
    """A store that reads several articles at once."""

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]:
        """What ``get_article`` returns for each of ``article_ids`` (vectors
        omitted), in that order, each id once; ids with no article are left
        out instead of raising ArticleNotFound."""
