"""API keys: writes need CLAIMLOOKUP_API_KEY (refused when none is set),
reads are open unless CLAIMLOOKUP_READ_API_KEY is set."""

from __future__ import annotations

import pytest
from apicontract import READ_KEY, WRITE_KEY

ARTICLE = {"article_id": "test:auth", "title": "Auth test",
           "body": "The White Helmets said a Russian air strike hit a market in Idlib."}


@pytest.mark.parametrize("headers", [
    {"Authorization": f"Bearer {WRITE_KEY}"},
    {"Authorization": f"bearer   {WRITE_KEY}"},
    {"X-API-Key": WRITE_KEY},
], ids=["bearer", "bearer-lowercase", "x-api-key"])
def test_write_key_in_either_header(client, headers) -> None:
    assert client.delete("/v1/articles/seed:004", headers=headers).status_code == 204


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": f"Basic {WRITE_KEY}"},
    {"Authorization": f"Bearer {WRITE_KEY}x"},
    {"X-API-Key": WRITE_KEY[:-1]},
    {"X-API-Key": ""},
], ids=["none", "empty-bearer", "basic", "longer", "shorter", "empty"])
def test_write_refused_without_the_right_key(client, headers) -> None:
    response = client.delete("/v1/articles/seed:004", headers=headers)
    assert response.status_code == 401
    assert client.get("/v1/articles/seed:004").status_code == 200  # still there


def test_writes_refused_when_no_key_is_configured(make_app) -> None:
    client = make_app(API_KEY=None).test_client()
    response = client.delete("/v1/articles/seed:004", headers={"X-API-Key": "anything"})
    assert response.status_code == 403
    assert "CLAIMLOOKUP_API_KEY" in response.get_json()["detail"]


def test_empty_key_in_the_environment_counts_as_none(make_app, monkeypatch) -> None:
    monkeypatch.setenv("CLAIMLOOKUP_API_KEY", "")
    client = make_app(API_KEY="").test_client()
    assert client.delete("/v1/articles/seed:004", headers={"X-API-Key": ""}).status_code == 403


def test_key_comes_from_the_environment(seeded_db, tmp_path, clean_environment) -> None:
    monkeypatch = clean_environment
    from apicontract import ContractClient, copy_store

    from api import create_app

    monkeypatch.setenv("CLAIMLOOKUP_API_KEY", "from-env")
    monkeypatch.setenv("CLAIMLOOKUP_STORE_URL", copy_store(seeded_db, tmp_path))
    app = create_app({"TESTING": True, "GC_FULL_EVERY": 0})
    app.test_client_class = ContractClient
    try:
        client = app.test_client()
        assert client.delete("/v1/articles/seed:004", headers={"X-API-Key": "from-env"}).status_code == 204
    finally:
        app.extensions["claimlookup"].close()


def test_reads_are_open_by_default(client) -> None:
    assert client.get("/v1/search?q=idlib").status_code == 200


def test_read_key_protects_reads_but_not_probes_or_docs(make_app) -> None:
    client = make_app(READ_API_KEY=READ_KEY).test_client()
    for url in ("/v1/search?q=idlib", "/v1/articles", "/v1/articles/seed:000", "/v1/entities", "/v1/sources"):
        assert client.get(url).status_code == 401, url
        assert client.get(url, headers={"X-API-Key": READ_KEY}).status_code == 200, url
        assert client.get(url, headers={"Authorization": f"Bearer {WRITE_KEY}"}).status_code == 200, url
        assert client.get(url, headers={"X-API-Key": "wrong"}).status_code == 401, url
    for url in ("/healthz", "/readyz", "/openapi.yaml", "/openapi.json", "/docs"):
        assert client.get(url).status_code == 200, url


def test_read_key_cannot_write(make_app) -> None:
    client = make_app(READ_API_KEY=READ_KEY).test_client()
    response = client.post("/v1/articles", json=ARTICLE, headers={"X-API-Key": READ_KEY})
    assert response.status_code == 403
    assert response.get_json()["type"] == "urn:claimlookup:problem:forbidden"


def test_auth_is_checked_before_the_body(client) -> None:
    """A caller without a key learns nothing about what the body should be."""
    response = client.post("/v1/articles", data="{not json", content_type="application/json")
    assert response.status_code == 401
