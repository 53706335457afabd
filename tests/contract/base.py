"""What every part of the store contract shares: the ``store`` and ``loaded``
fixtures (``ContractBase``) and small helpers over search pages. Each area's
mixin (``writes.WritesContract``, ``search.SearchContract``, ...) subclasses
``ContractBase``; ``suite.StoreContract`` composes them all.
"""

from __future__ import annotations

import re

import pytest

from claimlookup.model import SearchPage, SearchRequest, WriteStatus
from claimlookup.query import parse_query
from claimlookup.store import Store

from .fixtures import corpus

ALL_IDS = {a.id for a in corpus()}
TAG = re.compile(r"<[^>]*>")


def search(store: Store, q: str = "", **kwargs) -> SearchPage:
    return store.search(SearchRequest(query=parse_query(q), **kwargs))


def hit_ids(page: SearchPage) -> list[str]:
    return [hit.article_id for hit in page.hits]


def facet_map(facets) -> dict[str, int]:
    return {f.value: f.count for f in facets}


def marked_words(snippet: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<mark>(.*?)</mark>", snippet)}


class ContractBase:
    """Subclass (through the area mixins) and provide ``store`` (empty, set up)."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError("adapter test modules provide the store fixture")

    @pytest.fixture
    def loaded(self, store: Store) -> Store:
        outcomes = list(store.write_articles(corpus()))
        assert [o.status for o in outcomes] == [WriteStatus.NEW] * len(outcomes)
        return store
