"""GET/POST/DELETE /v1/articles: the stored analysis, and writes through the
real ingest pipeline (the indexer's)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

MARKET = {
    "article_id": "test:market",
    "title": "Russia denies striking Idlib market",
    "body": ("Russia's defence ministry on Monday denied reports that its jets struck a vegetable market "
             "in Maaret al-Numan, in Idlib province. The White Helmets said at least 20 people were killed "
             "in the strike."),
    "source": "testwire",
    "url": "https://news.example/idlib-market",
    "published": "2019-07-22",
}


def test_article_with_sentences_stance_figures_and_entities(client) -> None:
    article = client.get("/v1/articles/seed:000").get_json()
    assert article["article_id"] == "seed:000"
    assert article["title"] == "Russia dismisses claims of striking Syrian city in Idlib province"
    assert article["language"] == "en" and len(article["content_hash"]) == 64
    sentences = article["sentences"]
    assert [s["position"] for s in sentences] == list(range(len(sentences)))
    assert sentences[0]["text"] == article["title"]
    for s in sentences[1:]:
        assert article["body"][s["start"]:s["end"]] == s["text"]
        for e in s["entities"]:
            assert s["text"][e["start"]:e["end"]] == e["text"]
    frames = {s["frame"] for s in sentences}
    assert {"denies", "attributes"} <= frames
    assert any(s["speaker"] and "Observatory" in s["speaker"] for s in sentences)
    figures = [(q["value"], q["event"]) for s in sentences for q in s["quantities"]]
    assert (20.0, "killed") in figures
    keys = [e["key"] for e in article["entities"]]
    assert "white helmets" in keys and len(keys) == len(set(keys))
    mentions = [e["mentions"] for e in article["entities"]]
    assert mentions == sorted(mentions, reverse=True)


def test_title_comes_from_the_first_line_without_boilerplate(client) -> None:
    article = client.get("/v1/articles/seed:001").get_json()
    assert article["title"] == "Russian Federation denies it conducted fatal Idlib airstrikes"
    assert not article["body"].startswith("Share")


def test_add_read_update_delete_roundtrip(client, write_headers) -> None:
    response = client.post("/v1/articles", json=MARKET, headers=write_headers)
    assert response.status_code == 201
    assert response.headers["Location"] == "/v1/articles/test:market"
    body = response.get_json()
    assert (body["new"], body["updated"], body["unchanged"], body["rejected"]) == (1, 0, 0, 0)
    outcome = body["results"][0]
    assert outcome["article_id"] == "test:market" and outcome["status"] == "new" and outcome["problem"] is None
    assert outcome["sentences"] >= 3 and outcome["entities"] > 0

    stored = client.get(response.headers["Location"]).get_json()
    assert stored["source"] == "testwire" and stored["published"] == "2019-07-22"
    assert any(q["value"] == 20 for s in stored["sentences"] for q in s["quantities"])
    hits = client.get("/v1/search", query_string={"q": '"vegetable market"', "source": "testwire"}).get_json()
    assert [h["article_id"] for h in hits["hits"]] == ["test:market"]

    again = client.post("/v1/articles", json=MARKET, headers=write_headers)
    assert again.status_code == 200 and again.get_json()["results"][0]["status"] == "unchanged"
    changed = client.post("/v1/articles", json=MARKET | {"published": "2019-07-23"}, headers=write_headers)
    assert changed.status_code == 200 and changed.get_json()["results"][0]["status"] == "updated"
    assert client.get("/v1/articles/test:market").get_json()["published"] == "2019-07-23"

    assert client.delete("/v1/articles/test:market", headers=write_headers).status_code == 204
    assert client.get("/v1/articles/test:market").status_code == 404
    assert client.delete("/v1/articles/test:market", headers=write_headers).status_code == 404
    assert client.get("/v1/search", query_string={"q": '"vegetable market"', "source": "testwire"}
                      ).get_json()["total"] == 0


def test_batch_with_per_article_outcomes(client, write_headers) -> None:
    batch = {"articles": [
        MARKET,
        {"body": "Share"},
        MARKET | {"article_id": "test:french", "language": "fr"},
        {"title": "Observatory report", "source": "testwire",
         "body": "The Syrian Observatory for Human Rights said 23 people were killed in the market strike."},
    ]}
    response = client.post("/v1/articles", json=batch, headers=write_headers)
    assert response.status_code == 201
    assert "Location" not in response.headers
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == ["new", "rejected", "rejected", "new"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert (body["new"], body["rejected"]) == (2, 2)
    assert "nothing left after removing boilerplate" in body["results"][1]["problem"]
    assert "English" in body["results"][2]["problem"]
    derived_id = body["results"][3]["article_id"]
    assert derived_id.startswith("h:")
    assert client.get(f"/v1/articles/{derived_id}").get_json()["title"] == "Observatory report"


def test_article_without_title_takes_its_first_line(client, write_headers) -> None:
    text = "Strike hits Idlib market\n\nThe White Helmets said the strike killed 20 people in Idlib."
    response = client.post("/v1/articles", json={"article_id": "test:untitled", "body": text}, headers=write_headers)
    assert response.status_code == 201
    assert client.get("/v1/articles/test:untitled").get_json()["title"] == "Strike hits Idlib market"


def test_url_is_the_default_id_and_works_in_the_path(client, write_headers) -> None:
    article = {k: v for k, v in MARKET.items() if k != "article_id"}
    response = client.post("/v1/articles", json=article, headers=write_headers)
    assert response.status_code == 201
    article_id = response.get_json()["results"][0]["article_id"]
    assert article_id == MARKET["url"]
    assert client.get(f"/v1/articles/{quote(article_id, safe='')}").get_json()["article_id"] == article_id
    assert client.delete(f"/v1/articles/{quote(article_id, safe='')}", headers=write_headers).status_code == 204


@pytest.mark.parametrize("article_id", ["seed:004", "fa-kes:1923848146"])
def test_delete_removes_it_from_listing_search_and_facets(client, write_headers, article_id) -> None:
    assert client.delete(f"/v1/articles/{article_id}", headers=write_headers).status_code == 204
    listing = client.get("/v1/articles").get_json()
    assert listing["total"] == 7 and article_id not in {a["article_id"] for a in listing["articles"]}
    assert article_id not in {h["article_id"] for h in
                              client.get("/v1/search", query_string={"q": "Idlib", "size": 50}).get_json()["hits"]}


def test_article_without_words_fails_the_whole_batch(client, write_headers) -> None:
    batch = {"articles": [MARKET, {"body": "  ...  "}]}
    response = client.post("/v1/articles", json=batch, headers=write_headers)
    assert response.status_code == 422
    assert "articles.1.body" in response.get_json()["errors"]
    assert client.get("/v1/articles/test:market").status_code == 404  # nothing was written
