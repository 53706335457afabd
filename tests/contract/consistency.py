"""Store contract, consistency across roles: what one write or delete changes,
every read (search, catalogue, candidates, ``get_sentences``) sees at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from claimlookup.model import Filters, SentenceRef, WriteStatus
from claimlookup.query import parse_query
from claimlookup.store import ArticleNotFound, Store

from .base import ALL_IDS, ContractBase, facet_map, hit_ids, search
from .fixtures import CONVOY, SARIN, Line, build_article, corpus_by_id, unit, vector_of


class ConsistencyContract(ContractBase):
    """Every role agrees on what is stored: an empty store answers every
    read with nothing, and an update, a replacement or a delete is seen at
    once by ``get_article``, search, the catalogue, the candidates and
    ``get_sentences`` alike (no orphans anywhere). Needs the whole protocol:
    adopt it last."""

    def test_empty_store(self, store: Store) -> None:
        assert store.count_articles() == 0
        page = search(store)
        assert (page.total, page.hits) == (0, [])
        assert search(store, "market").total == 0
        assert store.sources() == []
        assert store.entities() == []
        assert store.vector_candidates(unit((0, 1.0))[None, :], Filters(), 5) == [[]]
        assert store.lexical_candidates(parse_query("market"), Filters(), 5) == []

    def test_changed_content_is_updated(self, loaded: Store) -> None:
        article = corpus_by_id()[SARIN]
        article.title = "Sarin attack in Khan Sheikhoun: the inquiry"
        article.sentences[0] = replace(article.sentences[0], text=article.title, end=len(article.title))
        [outcome] = loaded.write_articles([article])
        assert outcome.status is WriteStatus.UPDATED
        assert loaded.get_article(SARIN).title == article.title
        assert hit_ids(search(loaded, "inquiry")) == [SARIN]
        assert loaded.count_articles() == len(ALL_IDS)

    def test_replace_leaves_no_orphans(self, loaded: Store) -> None:
        old = build_article(9, "rewritten", Line("Zeppelin sighted over Homs", [("Zeppelin", "PRODUCT", "zeppelin")]),
                            [Line("A zeppelin hovered over Homs for an hour.", [("Homs", "GPE", "homs")]),
                             Line("Witnesses filmed the zeppelin.")], source="Orphan News", published=date(2019, 5, 1))
        new = build_article(10, "rewritten", Line("Balloon sighted over Hama"),
                            [Line("A weather balloon drifted over Hama.")], source="Balloon Daily",
                            published=date(2019, 6, 1))
        list(loaded.write_articles([old]))
        assert [o.status for o in loaded.write_articles([new])] == [WriteStatus.UPDATED]

        for level in ("article", "sentence"):
            assert search(loaded, "zeppelin", level=level).total == 0
            assert hit_ids(search(loaded, "balloon", level=level)) == ["rewritten"] * (1 if level == "article" else 2)
        assert loaded.entities("zepp") == [] and loaded.entities("homs") == []
        assert "Orphan News" not in {s.source for s in loaded.sources()}
        assert loaded.lexical_candidates(parse_query("zeppelin OR homs"), Filters(), 10) == []
        old_refs = [SentenceRef("rewritten", p) for p in range(3)]
        assert [s.ref for s in loaded.get_sentences(old_refs)] == old_refs[:2]
        assert loaded.get_sentences([SentenceRef("rewritten", 1)])[0].sentence.text == new.sentences[1].text
        zeppelin = old.sentences[1].vector
        nearest = loaded.vector_candidates(zeppelin[None, :], Filters(), 50)[0]
        assert all(c.score < 0.99 for c in nearest)
        assert {c.ref for c in nearest if c.ref.article_id == "rewritten"} <= set(old_refs[:2])
        facets = search(loaded).facets
        assert "zeppelin" not in facet_map(facets.entities) and "2019-05" not in facet_map(facets.months)

    def test_delete(self, loaded: Store) -> None:
        loaded.delete_article(SARIN)
        assert loaded.count_articles() == len(ALL_IDS) - 1
        with pytest.raises(ArticleNotFound):
            loaded.get_article(SARIN)
        assert search(loaded, "sarin").total == 0
        assert search(loaded, "chemical", level="sentence").total == 0
        assert loaded.entities("khan") == []
        assert "Al Jazeera" not in {s.source for s in loaded.sources()}
        assert loaded.lexical_candidates(parse_query("chemical"), Filters(), 10) == []
        nearest = loaded.vector_candidates(vector_of(SARIN, 1)[None, :], Filters(), 100)[0]
        assert SARIN not in {c.ref.article_id for c in nearest}
        assert loaded.get_sentences([SentenceRef(SARIN, 1)]) == []
        assert loaded.content_hashes([SARIN]) == {}

    def test_write_after_delete(self, loaded: Store) -> None:
        loaded.delete_article(CONVOY)
        [outcome] = loaded.write_articles([corpus_by_id()[CONVOY]])
        assert outcome.status is WriteStatus.NEW
        assert hit_ids(search(loaded, "convoy")) == [CONVOY]
