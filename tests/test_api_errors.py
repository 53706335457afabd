"""One error envelope over every error path: ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail`` (and ``errors`` for validation),
never HTML, never a traceback. Each case also goes through the contract
check of the test client, so its status is documented for its operation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from apicontract import READ_KEY, WRITE_KEY, assert_problem

WRITE = {"Authorization": f"Bearer {WRITE_KEY}"}
VALIDATION = "urn:claimlookup:problem:validation-error"
ARTICLE = {"title": "A title", "body": "Some body text about Idlib and the White Helmets."}


@dataclass
class Case:
    method: str
    url: str
    status: int
    type: str = "about:blank"
    kwargs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # expected keys of `errors`


CASES = {
    # routing
    "unknown path": Case("GET", "/nope", 404),
    "unknown v1 path": Case("GET", "/v1/nope", 404),
    "unknown path, POST": Case("POST", "/v1/nope", 404, kwargs={"json": {}}),
    "trailing slash": Case("GET", "/v1/search/", 404),
    "method not allowed": Case("POST", "/v1/search", 405),
    "method not allowed on list": Case("DELETE", "/v1/articles", 405),
    "method not allowed on probe": Case("POST", "/healthz", 405),
    # not found
    "article not found": Case("GET", "/v1/articles/nope", 404, "urn:claimlookup:problem:article-not-found"),
    "delete missing article": Case("DELETE", "/v1/articles/nope", 404, "urn:claimlookup:problem:article-not-found",
                                   kwargs={"headers": WRITE}),
    "docs asset not found": Case("GET", "/docs/assets/nope.js", 404),
    "docs asset path escape": Case("GET", "/docs/assets/..%2F__init__.py", 404),
    # validation of query strings
    "search without q": Case("GET", "/v1/search", 422, VALIDATION, errors=("q",)),
    "blank q": Case("GET", "/v1/search?q=%20%20", 422, VALIDATION, errors=("q",)),
    "only exclusions": Case("GET", "/v1/search?q=-russia", 422, VALIDATION, errors=("q",)),
    "only punctuation": Case("GET", "/v1/search?q=***", 422, VALIDATION, errors=("q",)),
    "q too long": Case("GET", "/v1/search?q=" + "a" * 501, 422, VALIDATION, errors=("q",)),
    "q too many terms": Case("GET", "/v1/search?q=" + "+".join(["w"] * 40), 422, VALIDATION, errors=("q",)),
    "unknown parameter": Case("GET", "/v1/search?q=idlib&sorce=trt", 422, VALIDATION, errors=("sorce",)),
    "unknown parameter on listing": Case("GET", "/v1/articles?q=idlib", 422, VALIDATION, errors=("q",)),
    "unknown parameter on sources": Case("GET", "/v1/sources?limit=3", 422, VALIDATION, errors=("limit",)),
    "unknown parameter on article": Case("GET", "/v1/articles/seed:000?full=1", 422, VALIDATION,
                                         errors=("full",)),
    "repeated scalar": Case("GET", "/v1/search?q=idlib&q=aleppo", 422, VALIDATION, errors=("q",)),
    "bad level": Case("GET", "/v1/search?q=idlib&level=word", 422, VALIDATION, errors=("level",)),
    "bad sort": Case("GET", "/v1/search?q=idlib&sort=random", 422, VALIDATION, errors=("sort",)),
    "bad page": Case("GET", "/v1/articles?page=0", 422, VALIDATION, errors=("page",)),
    "page not a number": Case("GET", "/v1/articles?page=two", 422, VALIDATION, errors=("page",)),
    "bad size": Case("GET", "/v1/articles?size=-1", 422, VALIDATION, errors=("size",)),
    "too deep": Case("GET", "/v1/articles?page=1001&size=10", 422, VALIDATION, errors=("page",)),
    "bad date": Case("GET", "/v1/articles?from=2017-13-01", 422, VALIDATION, errors=("from",)),
    "from after to": Case("GET", "/v1/articles?from=2018-01-01&to=2017-01-01", 422, VALIDATION, errors=("from",)),
    "empty filter value": Case("GET", "/v1/articles?source=", 422, VALIDATION, errors=("source.0",)),
    "too many filter values": Case("GET", "/v1/articles?" + "&".join(["entity=x"] * 21), 422, VALIDATION,
                                   errors=("entity",)),
    "bad entity type": Case("GET", "/v1/entities?type=person", 422, VALIDATION, errors=("type",)),
    "entity limit too large": Case("GET", "/v1/entities?limit=101", 422, VALIDATION, errors=("limit",)),
    # size limits
    "query string too long": Case("GET", "/v1/search?q=idlib&source=" + "x" * 4000, 414,
                                  "urn:claimlookup:problem:request-line-too-long"),
    "body too large": Case("POST", "/v1/articles", 413, kwargs={
        "headers": WRITE, "json": {**ARTICLE, "body": "word " * 500_000}}),
    "body over a small limit": Case("POST", "/v1/articles", 413, config={"MAX_CONTENT_LENGTH": 100},
                                    kwargs={"headers": WRITE, "json": ARTICLE | {"body": "x" * 200}}),
    # bodies
    "malformed JSON": Case("POST", "/v1/articles", 400, "urn:claimlookup:problem:malformed-request", kwargs={
        "headers": WRITE, "data": "{not json", "content_type": "application/json"}),
    "not JSON": Case("POST", "/v1/articles", 415, kwargs={"headers": WRITE, "data": "title=x"}),
    "JSON array": Case("POST", "/v1/articles", 422, VALIDATION, kwargs={"headers": WRITE, "json": [ARTICLE]},
                       errors=("_body",)),
    "missing body field": Case("POST", "/v1/articles", 422, VALIDATION,
                               kwargs={"headers": WRITE, "json": {"title": "t"}}, errors=("body",)),
    "wrong field type": Case("POST", "/v1/articles", 422, VALIDATION,
                             kwargs={"headers": WRITE, "json": ARTICLE | {"published": "yesterday"}},
                             errors=("published",)),
    "unknown body field": Case("POST", "/v1/articles", 422, VALIDATION,
                               kwargs={"headers": WRITE, "json": ARTICLE | {"author": "me"}}, errors=("author",)),
    "empty batch": Case("POST", "/v1/articles", 422, VALIDATION,
                        kwargs={"headers": WRITE, "json": {"articles": []}}, errors=("articles",)),
    "batch too large": Case("POST", "/v1/articles", 422, VALIDATION, config={"MAX_BATCH_ARTICLES": 2},
                            kwargs={"headers": WRITE, "json": {"articles": [ARTICLE] * 3}}, errors=("articles",)),
    "bad batch item": Case("POST", "/v1/articles", 422, VALIDATION,
                           kwargs={"headers": WRITE, "json": {"articles": [ARTICLE, {"title": "no body"}]}},
                           errors=("articles.1.body",)),
    "article rejected by the pipeline": Case("POST", "/v1/articles", 422, VALIDATION,
                                             kwargs={"headers": WRITE, "json": ARTICLE | {"language": "fr"}},
                                             errors=("_body",)),
    "every batch article rejected": Case("POST", "/v1/articles", 422, VALIDATION, kwargs={
        "headers": WRITE, "json": {"articles": [ARTICLE | {"url": "ftp://x"}, ARTICLE | {"language": "de"}]}},
        errors=("articles.0", "articles.1")),
    # claims
    "claim too short": Case("POST", "/v1/claims/lookup", 422, VALIDATION, kwargs={"json": {"text": "Idlib"}},
                            errors=("text",)),
    "claim too short, GET": Case("GET", "/v1/claims/lookup?text=Idlib", 422, VALIDATION, errors=("text",)),
    "claim lookup without text": Case("GET", "/v1/claims/lookup", 422, VALIDATION, errors=("text",)),
    "claim body not JSON": Case("POST", "/v1/claims/lookup", 415, kwargs={"data": "text=x"}),
    "claim body malformed": Case("POST", "/v1/claims/lookup", 400, "urn:claimlookup:problem:malformed-request",
                                 kwargs={"data": "{", "content_type": "application/json"}),
    "claim body a string": Case("POST", "/v1/claims/lookup", 422, VALIDATION, kwargs={"json": "a claim"},
                                errors=("_body",)),
    "scan with both": Case("POST", "/v1/claims/scan", 422, VALIDATION,
                           kwargs={"json": {"text": "t", "article_id": "seed:000"}}, errors=("_body",)),
    "scan unknown article": Case("POST", "/v1/claims/scan", 404, "urn:claimlookup:problem:article-not-found",
                                 kwargs={"json": {"article_id": "nope"}}),
    "reports of unknown article": Case("GET", "/v1/articles/nope/reports", 404,
                                       "urn:claimlookup:problem:article-not-found"),
    "reports with bad min_score": Case("GET", "/v1/articles/seed:000/reports?min_score=2", 422, VALIDATION,
                                       errors=("min_score",)),
    "method not allowed on reports": Case("POST", "/v1/articles/seed:000/reports", 405),
    # auth
    "write without key": Case("POST", "/v1/articles", 401, "urn:claimlookup:problem:authentication-required",
                              kwargs={"json": ARTICLE}),
    "write with wrong key": Case("DELETE", "/v1/articles/seed:000", 401,
                                 "urn:claimlookup:problem:authentication-required",
                                 kwargs={"headers": {"X-API-Key": "wrong"}}),
    "write with non-ASCII key": Case("DELETE", "/v1/articles/seed:000", 401,
                                     "urn:claimlookup:problem:authentication-required",
                                     kwargs={"headers": {"X-API-Key": "clé"}}),
    "write with read key": Case("DELETE", "/v1/articles/seed:000", 403, "urn:claimlookup:problem:forbidden",
                                config={"READ_API_KEY": READ_KEY}, kwargs={"headers": {"X-API-Key": READ_KEY}}),
    "writes disabled": Case("POST", "/v1/articles", 403, "urn:claimlookup:problem:writes-disabled",
                            config={"API_KEY": None}, kwargs={"headers": WRITE, "json": ARTICLE}),
    "read without key when required": Case("GET", "/v1/search?q=idlib", 401,
                                           "urn:claimlookup:problem:authentication-required",
                                           config={"READ_API_KEY": READ_KEY}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_error_envelope(make_app, case: Case) -> None:
    client = make_app(**case.config).test_client()
    response = client.open(case.url, method=case.method, **case.kwargs)
    body = assert_problem(response, case.status)
    assert body["type"] == case.type
    if case.status == 422:
        assert set(case.errors) <= set(body["errors"]), body["errors"]
        assert all(isinstance(m, str) and m for msgs in body["errors"].values() for m in msgs)
    if case.status == 405:
        assert case.method not in response.headers["Allow"]
    if case.status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture(params=["sqlite-directory", "elasticsearch-closed-port"])
def unreachable_store_url(request, tmp_path: Path) -> str:
    """Real failures: a SQLite 'file' that is a directory; an ES node on a closed port."""
    if request.param == "sqlite-directory":
        (tmp_path / "store.db").mkdir()
        return f"sqlite:///{tmp_path / 'store.db'}"
    return "http://127.0.0.1:1"


STORE_REQUESTS = [
    ("GET", "/readyz", {}),
    ("GET", "/v1/search?q=idlib", {}),
    ("GET", "/v1/articles", {}),
    ("GET", "/v1/articles/seed:000", {}),
    ("GET", "/v1/entities?q=white", {}),
    ("GET", "/v1/sources", {}),
    ("DELETE", "/v1/articles/seed:000", {"headers": WRITE}),
    ("POST", "/v1/articles", {"headers": WRITE, "json": ARTICLE}),
    ("POST", "/v1/claims/lookup", {"json": {"text": "Russian jets struck a market in Idlib"}}),
    ("GET", "/v1/claims/lookup?text=Russian+jets+struck+a+market+in+Idlib", {}),
    ("POST", "/v1/claims/scan", {"json": {"text": "Russia denied that its jets struck a market in Idlib."}}),
    ("POST", "/v1/claims/scan", {"json": {"article_id": "seed:000"}}),
    ("GET", "/v1/articles/seed:000/reports", {}),
]


@pytest.mark.slow
def test_store_down_is_503_with_retry_after(make_app, unreachable_store_url: str) -> None:
    client = make_app(STORE_URL=unreachable_store_url).test_client()
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    for method, url, kwargs in STORE_REQUESTS:
        response = client.open(url, method=method, **kwargs)
        body = assert_problem(response, 503)
        assert body["type"] == "urn:claimlookup:problem:store-unavailable"
        assert int(response.headers["Retry-After"]) > 0
        assert "127.0.0.1" not in body["detail"] and "store.db" not in body["detail"]


def test_ready_again_when_the_store_comes_back(make_app, tmp_path: Path) -> None:
    blocker = tmp_path / "later" / "store.db"
    blocker.mkdir(parents=True)
    client = make_app(STORE_URL=f"sqlite:///{blocker}").test_client()
    assert client.get("/readyz").status_code == 503
    blocker.rmdir()
    assert client.get("/readyz").status_code == 200


def test_bug_is_a_500_problem_without_traceback(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    store = app.extensions["claimlookup"].store

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "search", broken)
    response = app.test_client().get("/v1/search?q=idlib")
    body = assert_problem(response, 500)
    assert body["type"] == "urn:claimlookup:problem:internal-error"
    assert "secret" not in json.dumps(body)


def test_problem_headers_survive_cors(make_app) -> None:
    client = make_app(CORS_ORIGINS="https://newsroom.example").test_client()
    response = client.get("/v1/nope", headers={"Origin": "https://newsroom.example"})
    assert_problem(response, 404)
    assert response.headers["Access-Control-Allow-Origin"] == "https://newsroom.example"
