"""Store contract, lifecycle: ``setup``, ``ping`` and ``close`` (the first mixin
a new adapter adopts)."""

from __future__ import annotations

from claimlookup.store import Store

from .base import ALL_IDS, ContractBase


class LifecycleContract(ContractBase):
    """Opening and closing: a store is a ``Store``, ``setup()`` is
    idempotent, ``ping()`` answers, ``close()`` can be called twice."""

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_setup_is_idempotent_and_ping_answers(self, loaded: Store) -> None:
        loaded.setup()
        loaded.ping()
        assert loaded.count_articles() == len(ALL_IDS)

    def test_close_twice(self, loaded: Store) -> None:
        loaded.close()
        loaded.close()
