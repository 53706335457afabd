"""GET /v1/search and GET /v1/articles on the seeded store (real pipeline)."""

from __future__ import annotations

import re

import pytest

WHITE_HELMETS = '"White Helmets"'
#: Articles of the test store that mention the White Helmets.
WHITE_HELMETS_IDS = {"seed:000", "seed:002", "seed:003", "fa-kes:1919191767", "fa-kes:1923102973",
                     "fa-kes:1923848146"}


def search(client, **params):
    response = client.get("/v1/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(page) -> list[str]:
    return [h["article_id"] for h in page["hits"]]


def test_phrase_finds_the_seeds_with_highlights(client) -> None:
    page = search(client, q=WHITE_HELMETS)
    assert set(ids(page)) == WHITE_HELMETS_IDS
    assert page["total"] == len(WHITE_HELMETS_IDS)
    for hit in page["hits"]:
        assert re.search(r"<mark>white</mark>\s*<mark>helmets</mark>|<mark>white helmets</mark>",
                         hit["snippet"], re.IGNORECASE), hit["snippet"]
        assert hit["sentence_position"] is None
    scores = [h["score"] for h in page["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_snippets_escape_html_except_the_marks(client) -> None:
    for hit in search(client, q="Idlib", size=20)["hits"]:
        without_marks = hit["snippet"].replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks


def test_sentence_level(client) -> None:
    page = search(client, q=WHITE_HELMETS, level="sentence", size=50)
    assert page["total"] >= len(WHITE_HELMETS_IDS)
    assert set(ids(page)) == WHITE_HELMETS_IDS
    assert all(isinstance(h["sentence_position"], int) and "<mark>" in h["snippet"] for h in page["hits"])
    titles = [h for h in page["hits"] if h["sentence_position"] == 0]
    assert {h["article_id"] for h in titles} >= {"fa-kes:1919191767", "fa-kes:1923102973", "seed:002"}


def test_words_are_all_required(client) -> None:
    both = set(ids(search(client, q="chlorine Aleppo")))
    assert both and both <= set(ids(search(client, q="chlorine"))) & set(ids(search(client, q="Aleppo")))


def test_or_and_exclusion(client) -> None:
    chlorine, market = set(ids(search(client, q="chlorine"))), set(ids(search(client, q="market")))
    assert set(ids(search(client, q="chlorine OR market"))) == chlorine | market
    without = set(ids(search(client, q=f"{WHITE_HELMETS} -chlorine")))
    assert without == WHITE_HELMETS_IDS - chlorine and without != WHITE_HELMETS_IDS


def test_no_match_is_an_empty_page(client) -> None:
    page = search(client, q="zyzzyva")
    assert page["total"] == 0 and page["hits"] == []
    assert page["facets"] == {"sources": [], "entities": [], "months": [], "entities_sample": None}


@pytest.mark.parametrize("q", ['"unbalanced quote', "NEAR(idlib aleppo)", "idlib*", "col:umn", "a AND b",
                               "ünïcödé العربية", "<script>alert(1)</script>", "'; DROP TABLE articles; --"])
def test_awkward_queries_are_plain_text(client, q) -> None:
    search(client, q=q)


def test_source_filter(client) -> None:
    page = search(client, q=WHITE_HELMETS, source="trt")
    assert ids(page) == ["fa-kes:1919191767"]
    two = client.get("/v1/search", query_string=[("q", WHITE_HELMETS), ("source", "trt"), ("source", "ahram")])
    assert set(ids(two.get_json())) == {"fa-kes:1919191767", "fa-kes:1923848146"}


def test_date_filters(client) -> None:
    april = search(client, q=WHITE_HELMETS, **{"from": "2017-04-01", "to": "2017-04-30"})
    assert set(ids(april)) == {"fa-kes:1919191767", "fa-kes:1923848146"}
    assert all("2017-04-01" <= h["published"] <= "2017-04-30" for h in april["hits"])
    later = search(client, q=WHITE_HELMETS, **{"from": "2017-05-01"})
    assert ids(later) == ["fa-kes:1923102973"]


def test_entity_filter_uses_keys(client) -> None:
    observatory = search(client, q="Idlib", entity="syrian observatory for human rights", size=50)
    assert observatory["total"] > 0
    for article_id in ids(observatory):
        keys = {e["key"] for e in client.get(f"/v1/articles/{article_id}").get_json()["entities"]}
        assert "syrian observatory for human rights" in keys
    assert ids(search(client, q="Idlib", entity="Syrian Observatory for Human Rights", size=50)) == ids(observatory)
    both = search(client, q="Idlib", entity=["syrian observatory for human rights", "white helmets"], size=50)
    assert set(ids(both)) <= set(ids(observatory))


def test_facets_count_all_matches(client) -> None:
    page = search(client, q=WHITE_HELMETS, size=1)
    facets = page["facets"]
    assert len(page["hits"]) == 1
    assert {f["value"]: f["count"] for f in facets["sources"]} == {"trt": 1, "alaraby": 1, "ahram": 1}
    assert {f["value"]: f["count"] for f in facets["months"]} == {"2017-04": 2, "2017-11": 1}
    helmets = next(f for f in facets["entities"] if f["value"] == "white helmets")
    assert helmets["count"] >= 5 and helmets["label"] == "ORG" and helmets["name"] == "White Helmets"


def test_facets_say_they_count_every_match_when_few_match(client) -> None:
    assert search(client, q=WHITE_HELMETS, size=1)["facets"]["entities_sample"] is None


def test_entity_facet_counts_the_best_hits_when_many_match(client, monkeypatch) -> None:
    """Over the sample size, the entity facet counts the articles of the
    best-ranked hits (whatever the page's sort) and says how many; sources
    and months still count every match."""
    from claimlookup.store.sqlite import search as sqlite_search

    everything = search(client, q="Syria", size=50)
    assert everything["facets"]["entities_sample"] is None and everything["total"] > 3
    monkeypatch.setattr(sqlite_search, "ENTITY_FACET_SAMPLE", 3)
    for sort in ("relevance", "date"):
        sampled = search(client, q="Syria", size=50, sort=sort)
        assert sampled["facets"]["entities_sample"] == 3
        assert sampled["facets"]["sources"] == everything["facets"]["sources"]
        assert sampled["facets"]["months"] == everything["facets"]["months"]
    best = [hit["article_id"] for hit in everything["hits"][:3]]
    expected: dict[str, int] = {}
    for article_id in best:
        for key in {e["key"] for e in client.get(f"/v1/articles/{article_id}").get_json()["entities"]}:
            expected[key] = expected.get(key, 0) + 1
    counted = {f["value"]: f["count"] for f in sampled["facets"]["entities"]}
    assert counted and all(counted[key] == expected[key] for key in counted)
    assert max(counted.values()) <= 3


def test_a_listing_samples_the_newest_articles(client, monkeypatch) -> None:
    from claimlookup.store.sqlite import search as sqlite_search

    monkeypatch.setattr(sqlite_search, "ENTITY_FACET_SAMPLE", 2)
    listing = client.get("/v1/articles", query_string={"size": 2}).get_json()
    assert listing["total"] > 2 and listing["facets"]["entities_sample"] == 2
    newest = [a["article_id"] for a in listing["articles"]]
    keys = [{e["key"] for e in client.get(f"/v1/articles/{a}").get_json()["entities"]} for a in newest]
    counted = {f["value"]: f["count"] for f in listing["facets"]["entities"]}
    assert all(counted[key] == sum(key in k for k in keys) for key in counted)


def test_paging_covers_every_hit_once(client) -> None:
    total = search(client, q="Syria")["total"]
    seen = []
    for page_number in range(1, total // 3 + 2):
        page = search(client, q="Syria", size=3, page=page_number)
        assert (page["page"], page["size"], page["total"]) == (page_number, 3, total)
        seen += ids(page)
    assert len(seen) == len(set(seen)) == total
    assert search(client, q="Syria", size=3, page=total)["hits"] == []


def test_size_is_capped(make_app) -> None:
    client = make_app(MAX_PAGE_SIZE=2).test_client()
    page = search(client, q="Syria", size=50)
    assert page["size"] == 2 and len(page["hits"]) == 2


def test_sort_by_date_newest_first_undated_last(client) -> None:
    page = search(client, q=WHITE_HELMETS, sort="date")
    dates = [h["published"] for h in page["hits"]]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True) == ["2017-11-18", "2017-04-30", "2017-04-04"]
    assert dates[len(dated):] == [None] * (len(dates) - len(dated))


def test_listing_without_query_newest_first(client) -> None:
    page = client.get("/v1/articles").get_json()
    assert page["total"] == 8 and len(page["articles"]) == 8
    assert [a["article_id"] for a in page["articles"][:3]] == ["fa-kes:1923102973", "fa-kes:1919191767",
                                                       "fa-kes:1923848146"]
    assert {a["article_id"] for a in page["articles"][3:]} == {f"seed:00{i}" for i in range(5)}
    assert {"sources", "entities", "months", "entities_sample"} == set(page["facets"])


def test_listing_filters_and_paging(client) -> None:
    page = client.get("/v1/articles", query_string={"source": "alaraby"}).get_json()
    assert [a["article_id"] for a in page["articles"]] == ["fa-kes:1923102973"]
    page = client.get("/v1/articles", query_string={"entity": "maaret al numan", "size": 1}).get_json()
    assert page["total"] == 1 and [a["article_id"] for a in page["articles"]] == ["seed:000"]
    page = client.get("/v1/articles", query_string={"to": "2017-04-30"}).get_json()
    assert {a["article_id"] for a in page["articles"]} == {"fa-kes:1919191767", "fa-kes:1923848146"}


@pytest.mark.parametrize("spellings", [("Khan Sheikhoun", '"Khan Shaykhun"', "khan sheikhun"),
                                       ("Maaret al-Numan", '"Maarat al-Numan"')])
def test_one_spelling_finds_the_others(client, spellings) -> None:
    """An entity name matches every spelling the corpus has for it (issue 10):
    each spelling finds the same articles, at least as many as any spelling
    typed alone (``spellings=false``), with the other spellings highlighted."""
    found = [set(ids(search(client, q=q, size=100))) for q in spellings]
    alone = [set(ids(search(client, q=q, size=100, spellings="false"))) for q in spellings]
    assert all(f == found[0] for f in found), [sorted(f) for f in found]
    assert all(a <= found[0] for a in alone) and any(a != found[0] for a in alone), alone


def test_spellings_leave_common_words_and_unknown_names_alone(client) -> None:
    for q in ("strikes on us", "Zzyzx market"):
        assert search(client, q=q)["total"] == search(client, q=q, spellings="false")["total"]
