"""CORS: off by default; CLAIMLOOKUP_CORS_ORIGINS lists origins or is '*'."""

from __future__ import annotations

import pytest

NEWSROOM = "https://newsroom.example"
PREFLIGHT = {"Origin": NEWSROOM, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def test_no_cors_headers_by_default(client) -> None:
    response = client.get("/v1/search?q=idlib", headers={"Origin": NEWSROOM})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_listed_origin_is_echoed(make_app) -> None:
    client = make_app(CORS_ORIGINS=f"{NEWSROOM}, http://localhost:3000").test_client()
    response = client.get("/v1/search?q=idlib", headers={"Origin": NEWSROOM})
    assert response.headers["Access-Control-Allow-Origin"] == NEWSROOM
    assert "Origin" in response.headers["Vary"]
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_other_origin_gets_no_cors_headers(make_app) -> None:
    client = make_app(CORS_ORIGINS=NEWSROOM).test_client()
    response = client.get("/v1/search?q=idlib", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_wildcard(make_app) -> None:
    client = make_app(CORS_ORIGINS="*").test_client()
    response = client.get("/v1/sources", headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_origins_from_the_environment(make_app, monkeypatch) -> None:
    monkeypatch.setenv("CLAIMLOOKUP_CORS_ORIGINS", NEWSROOM)
    client = make_app().test_client()
    response = client.get("/healthz", headers={"Origin": NEWSROOM})
    assert response.headers["Access-Control-Allow-Origin"] == NEWSROOM


def test_preflight_from_allowed_origin(make_app) -> None:
    client = make_app(CORS_ORIGINS=NEWSROOM).test_client()
    response = client.options("/v1/articles", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == NEWSROOM
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "x-api-key", "content-type"} <= {h.strip() for h in allowed.split(",")}
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_preflight_for_a_path_with_an_id(make_app) -> None:
    client = make_app(CORS_ORIGINS=NEWSROOM).test_client()
    response = client.options("/v1/articles/seed:000", headers=PREFLIGHT | {"Access-Control-Request-Method": "DELETE"})
    assert response.status_code == 204
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("origins", ["", "https://other.example"])
def test_preflight_from_other_origin_is_not_allowed(make_app, origins) -> None:
    client = make_app(CORS_ORIGINS=origins).test_client()
    response = client.options("/v1/articles", headers=PREFLIGHT)
    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


def test_preflight_needs_no_key(make_app) -> None:
    client = make_app(CORS_ORIGINS=NEWSROOM, READ_API_KEY="read").test_client()
    assert client.options("/v1/search", headers=PREFLIGHT).status_code == 204


def test_plain_options_lists_methods(client) -> None:
    response = client.options("/v1/articles")
    assert response.status_code == 204
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_options_on_unknown_path_is_404(make_app) -> None:
    client = make_app(CORS_ORIGINS=NEWSROOM).test_client()
    assert client.options("/v1/nope", headers=PREFLIGHT).status_code == 404


EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def test_a_browser_extensions_origin_and_the_localhost_trap(make_app) -> None:
    """What README.md and docs/api.md tell an extension's author: an
    extension's own origin is listed like any other, and origins compare as
    written: localhost is not 127.0.0.1, and the port counts."""
    client = make_app(CORS_ORIGINS=f"{EXTENSION},http://localhost:8000").test_client()
    preflight = client.options("/v1/claims/scan", headers={**PREFLIGHT, "Origin": EXTENSION})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == EXTENSION
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    scan = client.post("/v1/claims/scan", json={"text": "Hello there."}, headers={"Origin": EXTENSION})
    assert scan.headers["Access-Control-Allow-Origin"] == EXTENSION
    for other in ("http://127.0.0.1:8000", "http://localhost:3000", "moz-extension://abcdefgh-1234"):
        response = client.get("/v1/sources", headers={"Origin": other})
        assert "Access-Control-Allow-Origin" not in response.headers, other
    assert client.get("/v1/sources", headers={"Origin": "http://localhost:8000"}).headers[
        "Access-Control-Allow-Origin"] == "http://localhost:8000"
