"""Store contract, writing: what ``write_articles`` reports, ``content_hashes``,
and reading articles back by id."""

from __future__ import annotations

from dataclasses import replace

import pytest

from claimlookup.model import WriteStatus
from claimlookup.store import ArticleNotFound, Store, StoreError

from .base import ALL_IDS, ContractBase
from .fixtures import corpus


class WritesContract(ContractBase):
    """Writing and reading back by id: ``write_articles`` outcomes and
    laziness, unchanged content, ``content_hashes``, ``get_article``
    round trips, ``delete_article`` of a missing id. Needs only the writing
    methods, ``get_article`` and ``count_articles``."""

    def test_write_outcomes_in_input_order(self, store: Store) -> None:
        articles = corpus()
        outcomes = list(store.write_articles(articles))
        assert [o.article_id for o in outcomes] == [a.id for a in articles]
        assert all(o.status is WriteStatus.NEW for o in outcomes)
        assert [o.sentences for o in outcomes] == [len(a.sentences) for a in articles]
        assert [o.entities for o in outcomes] == [len(a.entities) for a in articles]
        assert store.count_articles() == len(articles)

    def test_write_is_lazy(self, store: Store) -> None:
        outcomes = store.write_articles(corpus())
        assert store.count_articles() == 0
        next(outcomes)
        list(outcomes)
        assert store.count_articles() == len(ALL_IDS)

    def test_same_content_is_unchanged(self, loaded: Store) -> None:
        outcomes = list(loaded.write_articles(corpus()[:2]))
        assert [o.status for o in outcomes] == [WriteStatus.UNCHANGED] * 2
        assert loaded.count_articles() == len(ALL_IDS)

    def test_content_hashes(self, loaded: Store) -> None:
        expected = {a.id: a.content_hash for a in corpus()[:2]}
        assert loaded.content_hashes([*expected, "no-such-article"]) == expected
        assert loaded.content_hashes([]) == {}

    def test_roundtrip(self, loaded: Store) -> None:
        for original in corpus():
            stored = loaded.get_article(original.id)
            assert (stored.id, stored.title, stored.body, stored.source, stored.url, stored.published,
                    stored.language) == (original.id, original.title, original.body, original.source,
                                         original.url, original.published, original.language)
            assert stored.content_hash == original.content_hash
            assert len(stored.sentences) == len(original.sentences)
            for got, want in zip(stored.sentences, original.sentences, strict=True):
                assert got.vector is None  # get_article omits vectors
                assert replace(got, vector=None) == replace(want, vector=None)

    def test_delete_missing(self, loaded: Store) -> None:
        with pytest.raises(ArticleNotFound) as raised:
            loaded.delete_article("no-such-article")
        assert isinstance(raised.value, (StoreError, KeyError))
        assert loaded.count_articles() == len(ALL_IDS)

    def test_get_missing(self, loaded: Store) -> None:
        with pytest.raises(ArticleNotFound):
            loaded.get_article("no-such-article")
