"""The lookup's reads of candidates and articles, in as few round trips as
the store allows: a store with the optional batched reads of
``claimlookup.store.base`` (``BatchedCandidates``, ``BatchedArticles``: the
Elasticsearch store) answers each in one call; any other ``Store`` (SQLite,
in process) through the protocol's methods, one call per claim or article.
Both give the same results (``tests/test_elastic_batched.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from claimlookup.model import Article, Filters, ParsedQuery
from claimlookup.store.base import ArticleNotFound, BatchedArticles, BatchedCandidates, FoundCandidates, Store


def find_candidates(store: Store, queries: Sequence[ParsedQuery], vectors: np.ndarray, filters: Filters, *,
                    lexical_limit: int, vector_limit: int) -> FoundCandidates:
    """The lexical candidates of each query and the vector candidates of each
    row of ``vectors`` (none for a matrix of no rows)."""
    if isinstance(store, BatchedCandidates):
        return store.find_candidates(queries, vectors, filters, lexical_limit=lexical_limit,
                                     vector_limit=vector_limit)
    vector = store.vector_candidates(vectors, filters, vector_limit) if len(vectors) else []
    return FoundCandidates([store.lexical_candidates(q, filters, lexical_limit) for q in queries], vector)


def stored_articles(store: Store, article_ids: Sequence[str]) -> list[Article]:
    """The stored articles among ``article_ids`` (vectors omitted), in that
    order, each once; ids with no article (never stored, or deleted since
    the candidates were read) are left out."""
    ids = list(dict.fromkeys(article_ids))
    if isinstance(store, BatchedArticles):
        return store.get_articles(ids)
    found = []
    for article_id in ids:
        try:
            found.append(store.get_article(article_id))
        except ArticleNotFound:
            continue
    return found
