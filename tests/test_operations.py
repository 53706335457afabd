"""Operations (issue 9, item 16): per-client rate limiting, request ids in
answers and logs, JSON logs, Prometheus metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from apicontract import assert_problem
from flask import Flask

from api.observability import JSONFormatter
from api.ratelimit import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_buckets_allow_a_burst_then_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0)  # one token per second
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 1.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0.0
    clock.now += 60.0
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # refilled to the burst, not beyond
    assert buckets.take("a") > 0.0


def test_over_the_rate_limit_is_a_429_with_retry_after(make_app: Callable[..., Flask]) -> None:
    client = make_app(RATE_LIMIT=6, RATE_BURST=2).test_client()
    assert [client.get("/v1/sources").status_code for _ in range(2)] == [200, 200]
    response = client.get("/v1/sources")
    problem = assert_problem(response, 429)
    assert problem["type"] == "urn:claimlookup:problem:rate-limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert client.get("/healthz").status_code == 200  # probes are never limited
    # a client with its own key is another client
    assert client.get("/v1/sources", headers={"X-API-Key": "someone-else"}).status_code == 200


def test_no_rate_limit_by_default(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert {client.get("/v1/sources").status_code for _ in range(30)} == {200}


def test_a_sane_request_id_is_returned_and_a_missing_one_made(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123.x_y"}).headers["X-Request-ID"] == "abc-123.x_y"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "a b\u00e9<script>"}).headers["X-Request-ID"]
    assert hostile != "a b\u00e9<script>" and len(hostile) == 32
    problem = client.get("/v1/nowhere", headers={"X-Request-ID": "err-1"})
    assert problem.status_code == 404 and problem.headers["X-Request-ID"] == "err-1"


def test_log_lines_are_json_with_the_request_id(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    formatter = JSONFormatter()
    with app.test_request_context("/v1/search", headers={"X-Request-ID": "rid-7"}):
        app.preprocess_request()
        record = logging.LogRecord("api", logging.WARNING, __file__, 1, "store failed: %s", ("disk",), None)
        entry = json.loads(formatter.format(record))
    assert entry["message"] == "store failed: disk" and entry["request_id"] == "rid-7"
    assert entry["level"] == "warning"


def test_metrics_count_requests_by_route_and_status(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()

    def count(route: str, status: str) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        prefix = f'claimlookup_requests_total{{method="GET",route="{route}",status="{status}"}} '
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].split()[-1]) if lines else 0.0

    before = count("/v1/articles/<path:article_id>", "404")
    client.get("/v1/articles/no-such-article")
    client.get("/v1/articles/no-such-article-either")
    assert count("/v1/articles/<path:article_id>", "404") == before + 2
    text = client.get("/metrics").get_data(as_text=True)
    assert "claimlookup_request_seconds_bucket" in text and "claimlookup_store_errors_total" in text


def test_the_root_and_docs_with_a_slash_lead_somewhere(make_app: Callable[..., Flask]) -> None:
    """Issue 10: / and /docs/ were 404s for a person trying the service."""
    client = make_app().test_client()
    root = client.get("/").get_json()
    assert root["docs"] == "/docs" and "/v1/claims/lookup" in root["endpoints"]
    response = client.get("/docs/")
    assert response.status_code == 308 and response.headers["Location"].endswith("/docs")
