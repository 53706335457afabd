"""Store contract, the catalogue: ``entities``, ``entity_spellings`` and ``sources``."""

from __future__ import annotations

from datetime import date

from claimlookup.store import Store

from .base import ContractBase
from .fixtures import Line, build_article


class CatalogueContract(ContractBase):
    """The catalogue: ``entities`` (prefix on key or name, label, limit)
    and ``sources``."""

    def test_entities_by_prefix(self, loaded: Store) -> None:
        [maaret] = loaded.entities("maa")
        assert (maaret.key, maaret.name, maaret.label, maaret.articles) == (
            "maaret al-numan", "Maaret al-Numan", "GPE", 2)
        assert [e.key for e in loaded.entities("MAARET AL")] == ["maaret al-numan"]
        assert {e.key for e in loaded.entities("russ")} == {"russian", "russia"}
        assert loaded.entities("russ")[0].key == "russian"  # 2 articles before 1

    def test_entities_by_name_prefix(self, loaded: Store) -> None:
        assert [e.key for e in loaded.entities("Syrian Obs")] == ["syrian observatory"]

    def test_entities_label_and_limit(self, loaded: Store) -> None:
        assert {e.key for e in loaded.entities(label="ORG")} == {"syrian observatory", "united nations"}
        top = loaded.entities(limit=2)
        assert len(top) == 2 and top[0].key == "aleppo" and top[0].articles == 3
        everything = loaded.entities(limit=100)
        assert [e.articles for e in everything] == sorted((e.articles for e in everything), reverse=True)

    def test_entities_prefix_is_not_a_pattern(self, loaded: Store) -> None:
        assert loaded.entities("%") == [] and loaded.entities("_") == [] and loaded.entities("a%") == []

    def test_entity_spellings(self, loaded: Store) -> None:
        """Each key's distinct written names, most articles first, case
        variants once (the most articles' casing): what search uses so that
        one spelling finds the others."""
        other = build_article(9, "other-spelling", Line("Strike on Maarat al-Numan", [
            ("Maarat al-Numan", "GPE", "maaret al-numan")]), [Line("The SYRIAN OBSERVATORY said so.", [
                ("SYRIAN OBSERVATORY", "ORG", "syrian observatory")])], source="Wire", published=None)
        list(loaded.write_articles([other]))
        spellings = loaded.entity_spellings(["maaret al-numan", "syrian observatory", "no such key"])
        assert spellings == {"maaret al-numan": ["Maaret al-Numan", "Maarat al-Numan"],
                             "syrian observatory": ["Syrian Observatory"]}
        assert loaded.entity_spellings([]) == {}
        assert loaded.entity_spellings(["maaret al-numan"], limit=1) == {"maaret al-numan": ["Maaret al-Numan"]}

    def test_sources(self, loaded: Store) -> None:
        sources = loaded.sources()
        assert [(s.source, s.articles) for s in sources][0] == ("Reuters", 3)
        by_name = {s.source: s for s in sources}
        assert set(by_name) == {"Reuters", "BBC", "Al Jazeera"}
        assert (by_name["Reuters"].first_published, by_name["Reuters"].last_published) == (
            date(2015, 1, 10), date(2017, 4, 5))
