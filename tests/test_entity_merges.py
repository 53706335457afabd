"""One entity across spellings: the hand-checked gold pairs of FA-KES names
(tests/data/entity-merges.jsonl) through ``entity_key``, with no spaCy model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimlookup.nlp import ACRONYMS, ENTITY_GROUPS, canonical_key, entity_key, spelling_fold, spellings_of

GOLD = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "entity-merges.jsonl").read_text("utf-8").splitlines()]


def test_the_gold_file_is_large_enough() -> None:
    assert sum(p["merge"] for p in GOLD) >= 50
    assert sum(not p["merge"] for p in GOLD) >= 50


def test_gold_pairs_merge_exactly_as_checked() -> None:
    missed = [p for p in GOLD if p["merge"] and entity_key(p["a"], p["a_label"]) != entity_key(p["b"], p["b_label"])]
    wrong = [p for p in GOLD if not p["merge"] and entity_key(p["a"], p["a_label"]) == entity_key(p["b"], p["b_label"])]
    assert (missed, wrong) == ([], [])


@pytest.mark.parametrize(("text", "key"), [
    ("Khan Sheikhoun", "khan sheikhoun"), ("Khan Shaykhun", "khan sheikhoun"), ("Khan Sheikhun", "khan sheikhoun"),
    ("Maaret al-Numan", "maaret al numan"), ("Maarat al-Nouman", "maaret al numan"),
    ("Ma'arrat al-Nu'man", "maaret al numan"), ("Ma\u2018arrat al-Nu\u2019man", "maaret al numan"),
    ("the Syrian Observatory for Human Rights", "syrian observatory for human rights"),
    ("SOHR", "syrian observatory for human rights"), ("the Observatory", "syrian observatory for human rights"),
    ("U.N.", "united nations"), ("SAA", "syrian arab army"), ("HTS", "hayat tahrir al sham"),
])
def test_spellings_and_acronyms_give_one_key(text: str, key: str) -> None:
    assert entity_key(text, "PERSON") == key
    assert entity_key(text, "GPE") == key


def test_acronyms_only_in_capitals() -> None:
    assert entity_key("Saa", "PERSON") == "saa"
    assert entity_key("hts", "ORG") == "hts"


def test_entities_without_variants_keep_their_key() -> None:
    for text, key in [("Idlib", "idlib"), ("Homs", "homs"), ("Aleppo", "aleppo"), ("Douma", "douma"),
                      ("the White Helmets", "white helmets"), ("Vladimir Putin", "vladimir putin")]:
        assert entity_key(text, "GPE") == key


def test_the_table_is_consistent() -> None:
    """Each group's spellings fold apart from every other group's (checked at
    import too), and every acronym's long form is a canonical key or stable."""
    folds = {spelling_fold(g[0]): g[0] for g in ENTITY_GROUPS}
    assert len(folds) == len(ENTITY_GROUPS)
    for long_form in ACRONYMS.values():
        assert canonical_key(long_form) == long_form


def test_a_filter_key_is_canonicalised_and_variants_are_listed() -> None:
    assert canonical_key("khan shaykhun") == "khan sheikhoun"
    assert canonical_key("sohr") == "syrian observatory for human rights"
    assert canonical_key("idlib") == "idlib"
    assert "SOHR" in spellings_of("syrian observatory for human rights")
    assert spellings_of("idlib") == []


def test_a_store_indexed_with_old_keys_is_rekeyed_at_setup(tmp_path: Path) -> None:
    """Keys written before the spelling table (a store from an older version)
    are recomputed by setup(); the entity filter takes any spelling."""
    import sqlite3
    from datetime import date

    from contract.fixtures import Line, build_article

    from claimlookup.model import Filters, SearchRequest
    from claimlookup.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "old.db")
    store.setup()
    lines = [Line("Jets struck Khan Shaykhun.", entities=[("Khan Shaykhun", "GPE", "khan shaykhun")]),
             Line("Jets struck Khan Sheikhoun.", entities=[("Khan Sheikhoun", "GPE", "khan sheikhoun")])]
    articles = [build_article(i, f"a{i}", Line(f"Strike {i}"), [line], source="desk", published=date(2017, 4, 4))
                for i, line in enumerate(lines)]
    list(store.write_articles(articles))
    with sqlite3.connect(tmp_path / "old.db") as raw:
        raw.execute("UPDATE meta SET value = 'old' WHERE key = 'entity_keys'")
    store.close()

    store = SQLiteStore(tmp_path / "old.db")
    store.setup()
    assert [(e.key, e.articles) for e in store.entities(prefix="khan")] == [("khan sheikhoun", 2)]
    for spelling in ("khan shaykhun", "khan sheikhun", "khan sheikhoun"):
        page = store.search(SearchRequest(filters=Filters(entities=(spelling,))))
        assert page.total == 2
    store.close()
