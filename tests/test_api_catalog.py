"""Entities, sources, probes and the docs page."""

from __future__ import annotations

import re

from apicontract import ROOT

STATIC = ROOT / "api" / "static"


def test_entities_by_prefix_with_article_counts(client) -> None:
    entities = client.get("/v1/entities", query_string={"q": "White"}).get_json()["entities"]
    assert entities[0] == {"key": "white helmets", "name": "White Helmets", "label": "ORG", "articles": 5,
                           "variants": []}
    assert all(e["key"].startswith("white") or e["name"].lower().startswith("white") for e in entities)
    counts = [e["articles"] for e in entities]
    assert counts == sorted(counts, reverse=True)


def test_entities_by_type_and_limit(client) -> None:
    places = client.get("/v1/entities", query_string={"type": "GPE", "limit": 3}).get_json()["entities"]
    assert len(places) == 3 and all(e["label"] == "GPE" for e in places)
    assert places[0]["key"] == "syria"
    assert client.get("/v1/entities", query_string={"q": "zzz"}).get_json() == {"entities": []}


def test_entity_prefix_is_not_a_pattern(client) -> None:
    assert client.get("/v1/entities", query_string={"q": "%"}).get_json() == {"entities": []}
    assert client.get("/v1/entities", query_string={"q": "_"}).get_json() == {"entities": []}


def test_sources(client) -> None:
    sources = client.get("/v1/sources").get_json()["sources"]
    assert sources == [
        {"source": "ahram", "articles": 1, "first_published": "2017-04-04", "last_published": "2017-04-04"},
        {"source": "alaraby", "articles": 1, "first_published": "2017-11-18", "last_published": "2017-11-18"},
        {"source": "trt", "articles": 1, "first_published": "2017-04-30", "last_published": "2017-04-30"},
    ]


def test_probes(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_store_is_opened_once_per_app(app, client) -> None:
    state = app.extensions["claimlookup"]
    store = state.store
    for url in ("/readyz", "/v1/sources", "/v1/search?q=idlib"):
        client.get(url)
    assert state.store is store


def test_docs_page_is_self_contained(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(docs/assets/[^"]+)"', html)
    assert {"docs/assets/docs.js", "docs/assets/docs.css"} <= set(assets)
    for asset in assets:
        response = client.get("/" + asset)
        assert response.status_code == 200, asset
        assert response.mimetype in ("text/javascript", "text/css")
    js = client.get("/docs/assets/docs.js").get_data(as_text=True)
    assert "openapi.json" in js and "fetch(" in js


def test_docs_assets_load_nothing_from_elsewhere() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", text), path.name
        assert not re.search(r"""(?:fetch|import)\s*\(\s*["'](?:https?:)?//""", text), path.name
        assert "@import" not in text and "innerHTML" not in text, path.name
