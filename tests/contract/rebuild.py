"""Store contract, ``rebuild()``: the atomic swap of a store's contents."""

from __future__ import annotations

import pytest

from claimlookup.model import Filters, SentenceRef
from claimlookup.store import ArticleNotFound, Store

from .base import ALL_IDS, ContractBase, hit_ids, search
from .fixtures import CONVOY, MARKET_BBC, MARKET_REUTERS, extra_article, vector_of


class RebuildContract(ContractBase):
    """``rebuild()``: new data replaces the old atomically on a clean exit,
    an error keeps the old data, writes go on afterwards. Checks through
    search, the candidates and ``sources``: adopt it with those."""

    def test_rebuild_swaps_in_new_data(self, loaded: Store) -> None:
        fresh_articles = [extra_article("new-1", "zeppelin"), extra_article("new-2", "balloon", index=21)]
        with loaded.rebuild() as fresh:
            assert fresh.count_articles() == 0
            list(fresh.write_articles(fresh_articles))
            assert loaded.count_articles() == len(ALL_IDS)  # not yet visible
        assert loaded.count_articles() == 2
        assert search(loaded, "market").total == 0
        assert hit_ids(search(loaded, "zeppelin")) == ["new-1"]
        with pytest.raises(ArticleNotFound):
            loaded.get_article(MARKET_REUTERS)
        [found] = loaded.vector_candidates(vector_of(MARKET_REUTERS, 1)[None, :], Filters(), 10)
        assert {c.ref.article_id for c in found} <= {"new-1", "new-2"}
        [found] = loaded.vector_candidates(fresh_articles[1].sentences[1].vector[None, :], Filters(), 1)
        assert found[0].ref == SentenceRef("new-2", 1)
        assert [s.source for s in loaded.sources()] == ["AFP"]

    def test_rebuild_error_keeps_old_data(self, loaded: Store) -> None:
        with pytest.raises(RuntimeError, match="indexer failed"):
            with loaded.rebuild() as fresh:
                list(fresh.write_articles([extra_article("new-1", "zeppelin")]))
                raise RuntimeError("indexer failed")
        assert loaded.count_articles() == len(ALL_IDS)
        assert search(loaded, "zeppelin").total == 0
        assert set(hit_ids(search(loaded, "market"))) == {MARKET_REUTERS, MARKET_BBC}
        [found] = loaded.vector_candidates(vector_of(CONVOY, 1)[None, :], Filters(), 1)
        assert found[0].ref == SentenceRef(CONVOY, 1)

    def test_writes_after_rebuild(self, loaded: Store) -> None:
        with loaded.rebuild() as fresh:
            list(fresh.write_articles([extra_article("new-1", "zeppelin")]))
        list(loaded.write_articles([extra_article("new-2", "balloon", index=21)]))
        assert loaded.count_articles() == 2
        loaded.delete_article("new-1")
        assert [h.article_id for h in search(loaded).hits] == ["new-2"]
