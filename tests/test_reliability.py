"""The reliability suite (issue 9): each case found by probing the service
from outside, reproduced against the real app, and, for serving, against a
real gunicorn started as the README starts it (``gunicorn.conf.py``).

Each test failed on the code before the fix: a sync worker held by idle or
slow clients (``/healthz`` timed out), gunicorn's HTML error pages, a
RecursionError (500) on deep JSON, a lone surrogate reaching the store (500),
a corrupt store answered with 500 while ``/readyz`` said ready, ids ending in
``/reports`` unreachable, an unbounded scan.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from apicontract import ROOT, assert_problem
from flask import Flask

from claimlookup.lookup import service
from claimlookup.settings import Settings
from claimlookup.store.base import StoreUnavailable
from claimlookup.store.elastic.errors import StoreAccessDenied, StoreNotSetUp, StorePartialResults

CLAIM = "A Russian airstrike on a market in Maaret al-Numan killed 20 people"


# --- serving: a real gunicorn ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(port: int, raw: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
        return b"".join(chunks)


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes, float]:
    started = time.monotonic()
    answer = _http(port, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode(), timeout)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0  # 0: no answer
    return status, answer, time.monotonic() - started


@pytest.fixture
def server(seeded_db: Path, tmp_path: Path) -> Iterator[int]:
    """gunicorn with the project's gunicorn.conf.py on a copy of the seeded store."""
    store = tmp_path / "store.db"
    shutil.copy(seeded_db, store)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMLOOKUP_")}
    env.update(CLAIMLOOKUP_STORE_URL=f"sqlite:///{store}", CLAIMLOOKUP_READ_TIMEOUT="3", CLAIMLOOKUP_WORKERS="1",
               CLAIMLOOKUP_THREADS="16")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "api:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_idle_and_slow_clients_do_not_starve_the_server(server: int) -> None:
    """Case 1: two idle connections (then ten clients sending a body slowly)
    took every sync worker; /healthz timed out."""
    held = [socket.create_connection(("127.0.0.1", server)) for _ in range(2)]
    for _ in range(10):
        s = socket.create_connection(("127.0.0.1", server))
        s.sendall(b"POST /v1/claims/lookup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{\"te")
        held.append(s)
    try:
        time.sleep(0.5)
        for _ in range(3):
            status, _, seconds = _get(server, "/healthz")
            assert status == 200 and seconds < 1.0
        body = json.dumps({"text": CLAIM}).encode()
        answer = _http(server, b"POST /v1/claims/lookup HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
                       timeout=60)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    finally:
        for s in held:
            s.close()


def test_a_silent_client_is_dropped_after_the_read_timeout(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=15) as s:
        s.sendall(b"POST /v1/claims/lookup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = s.recv(65536)  # the read timeout (3 s here) ends the request
        assert time.monotonic() - started < 12
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]


@pytest.mark.parametrize(("raw", "status"), [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    (b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GET /\xff HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
])
def test_errors_gunicorn_answers_itself_are_problem_json(server: int, raw: bytes, status: int) -> None:
    """Case 13: these were gunicorn's HTML pages."""
    answer = _http(server, raw)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), head
    assert b"Content-Type: application/problem+json" in head
    problem = json.loads(body)
    assert problem["status"] == status and problem["type"].startswith("urn:claimlookup:problem:")


# --- input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/claims/lookup", "/v1/claims/scan", "/v1/articles"])
def test_deep_json_is_a_400_not_a_recursion_error(make_app: Callable[..., Flask], path: str,
                                                  write_headers: dict[str, str]) -> None:
    client = make_app().test_client()
    response = client.post(path, data="[" * 5000 + "]" * 5000, headers={**write_headers,
                                                                           "Content-Type": "application/json"})
    body = assert_problem(response, 400)
    assert "deeper" in body["detail"]


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/claims/lookup", {"text": CLAIM + " \ud800"}, "text"),
    ("/v1/claims/lookup", {"text": CLAIM, "exclude_article": ["x\ud800"]}, "exclude_article.0"),
    ("/v1/claims/scan", {"article_id": "seed:\ud800"}, "article_id"),
    ("/v1/claims/scan", {"text": CLAIM + " \udfff"}, "text"),
    ("/v1/articles", {"title": "t", "body": "Body text \ud800 here."}, "body"),
    ("/v1/articles", {"article_id": "a\ud800", "title": "t", "body": "Body text here."}, "article_id"),
    ("/v1/articles", {"source": "s\ud800", "title": "t", "body": "Body text here."}, "source"),
])
def test_a_lone_surrogate_is_a_422_naming_the_field(make_app: Callable[..., Flask], path: str, body: dict,
                                                    field: str, write_headers: dict[str, str]) -> None:
    """Case 9: a lone surrogate passed validation and failed in the store (500)."""
    client = make_app().test_client()
    raw = json.dumps(body)  # json.dumps escapes the surrogate as \\ud800, as a client would send it
    response = client.post(path, data=raw, headers={**write_headers, "Content-Type": "application/json"})
    problem = assert_problem(response, 422)
    assert field in problem["errors"], problem


def test_a_batch_with_one_bad_article_stores_nothing_and_says_which(make_app: Callable[..., Flask],
                                                                     write_headers: dict[str, str]) -> None:
    client = make_app().test_client()
    articles = [{"article_id": f"b{i}", "title": "t", "body": "Russian jets bombed a market in Idlib, rescuers said."}
                for i in range(3)]
    articles[2]["body"] = "bad \ud800"
    response = client.post("/v1/articles", data=json.dumps({"articles": articles}),
                           headers={**write_headers, "Content-Type": "application/json"})
    assert assert_problem(response, 422)["errors"].keys() == {"articles.2.body"}
    assert client.get("/v1/articles/b0").status_code == 404


def test_a_store_failure_mid_batch_answers_per_article(make_app: Callable[..., Flask], monkeypatch:
                                                       pytest.MonkeyPatch, write_headers: dict[str, str]) -> None:
    """Case 4: a batch cut short left the client unable to tell what was stored."""
    from api import articles as view

    real, calls = view.ingest_one, []

    def failing_third(store: Any, record: Any) -> Any:
        calls.append(record.id)
        if len(calls) == 3:
            raise StoreUnavailable("disk full")
        return real(store, record)

    monkeypatch.setattr(view, "ingest_one", failing_third)
    client = make_app().test_client()
    articles = [{"article_id": f"m{i}", "title": f"Title {i}",
                 "body": "Russian jets bombed a market in Idlib, rescuers said."} for i in range(4)]
    response = client.post("/v1/articles", json={"articles": articles}, headers=write_headers)
    assert response.status_code == 201
    statuses = [r["status"] for r in response.get_json()["results"]]
    assert statuses == ["new", "new", "rejected", "rejected"]
    assert "send this article again" in response.get_json()["results"][2]["problem"]
    assert client.get("/v1/articles/m1").status_code == 200
    assert client.get("/v1/articles/m2").status_code == 404


def test_settings_are_taken_as_strings() -> None:
    """Case 15: a key of "1e3" must stay "1e3" (it became 1000.0), "0" must not disable writes."""
    settings = Settings.from_env({"CLAIMLOOKUP_API_KEY": "1e3", "CLAIMLOOKUP_READ_API_KEY": "0",
                                  "CLAIMLOOKUP_CORS_ORIGINS": "true"})
    assert (settings.api_key, settings.read_api_key, settings.cors_origins) == ("1e3", "0", "true")


def test_an_api_key_that_looks_like_a_number_works(make_app: Callable[..., Flask]) -> None:
    client = make_app(API_KEY="1e3").test_client()
    response = client.delete("/v1/articles/nothing-here", headers={"X-API-Key": "1e3"})
    assert response.status_code == 404


# --- store faults ---------------------------------------------------------------------------


DATA_REQUESTS = [("GET", "/v1/search?q=russia", {}), ("GET", "/v1/articles/seed:000", {}),
                 ("POST", "/v1/claims/lookup", {"json": {"text": CLAIM}})]


def test_a_file_that_is_not_a_store_is_a_503_and_not_ready(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    """Case 7: a file that is not a database gave 500 everywhere."""
    path = tmp_path / "not-a-store.db"
    path.write_bytes(b"this is a text file, not SQLite\n" * 200)
    client = make_app(STORE_URL=f"sqlite:///{path}").test_client()
    assert client.get("/healthz").status_code == 200
    assert assert_problem(client.get("/readyz"), 503)["type"] == "urn:claimlookup:problem:store-corrupt"
    for method, url, kwargs in DATA_REQUESTS:
        problem = assert_problem(client.open(url, method=method, **kwargs), 503)
        assert problem["type"] == "urn:claimlookup:problem:store-corrupt"
        assert str(path) not in problem["detail"]


def test_corrupt_pages_make_readyz_say_not_ready(make_app: Callable[..., Flask], seeded_db: Path,
                                                 tmp_path: Path) -> None:
    """Case 7: with corrupt pages /readyz said 200 while every data endpoint was 500."""
    path = tmp_path / "corrupt.db"
    shutil.copy(seeded_db, path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    size = path.stat().st_size
    with path.open("r+b") as f:  # every page after the first few: schema readable, data not
        for offset in range(page_size * 4, size, page_size):
            f.seek(offset)
            f.write(b"\xa5" * page_size)
    client = make_app(STORE_URL=f"sqlite:///{path}").test_client()
    problem = assert_problem(client.get("/v1/search?q=russia"), 503)
    assert problem["type"] == "urn:claimlookup:problem:store-corrupt"
    assert assert_problem(client.get("/readyz"), 503)["type"] == "urn:claimlookup:problem:store-corrupt"


# --- ids with slashes -----------------------------------------------------------------------


def test_an_id_ending_in_reports_is_readable_and_deletable(make_app: Callable[..., Flask],
                                                           write_headers: dict[str, str]) -> None:
    """Case 12: GET could not read it; DELETE .../X/reports deleted 'X/reports'."""
    client = make_app().test_client()
    article_id = "https://example.org/story/reports"
    response = client.post("/v1/articles", json={"article_id": article_id, "title": "Reports",
                                                 "body": "Russian jets bombed a market in Idlib, rescuers said."},
                           headers=write_headers)
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/story%2Freports")
    encoded = "/v1/articles/" + quote(article_id, safe="")  # as the contract says to send an id
    assert client.get(encoded).get_json()["article_id"] == article_id
    literal = client.delete("/v1/articles/" + quote("https://example.org/story", safe="") + "/reports",
                            headers=write_headers)
    assert_problem(literal, 405)
    assert client.get(encoded).status_code == 200  # not deleted by the literal path
    assert client.delete(encoded, headers=write_headers).status_code == 204
    assert client.get(encoded).status_code == 404


# --- bounded work ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_scan_looks_up_a_bounded_number_of_sentences(make_app: Callable[..., Flask],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Case 2: a 100,000-character text of short claims had 2,151 check-worthy
    sentences, all looked up (10-19 s of CPU). The bound is MAX_SCAN_CLAIMS
    (50); lowered here to keep the test short, the same code path."""
    monkeypatch.setattr(service, "MAX_SCAN_CLAIMS", 3)
    text = " ".join(f"Rebels said {n} people were killed in Aleppo on Monday by government shelling."
                    for n in range(2, 9))
    body = make_app().test_client().post("/v1/claims/scan", json={"text": text}).get_json()
    assert len(body["sentences"]) == 3
    assert body["truncated"] is True and body["unchecked"] == 4


@pytest.mark.parametrize(("error", "problem_type"), [
    (StoreAccessDenied, "urn:claimlookup:problem:store-access-denied"),
    (StoreNotSetUp, "urn:claimlookup:problem:store-not-set-up"),
    (StorePartialResults, "urn:claimlookup:problem:store-partial-results"),
    (StoreUnavailable, "urn:claimlookup:problem:store-unavailable"),
])
def test_each_store_fault_has_its_own_problem_type(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch,
                                                   error: type[Exception], problem_type: str) -> None:
    """Case 7: a wrong server or credentials gave 500s; each fault says what to fix."""
    app = make_app()
    store = app.extensions["claimlookup"].store

    def failing(*args: Any, **kwargs: Any) -> None:
        raise error("secret internals")

    monkeypatch.setattr(store, "search", failing)
    client = app.test_client()
    response = client.get("/v1/search?q=idlib")
    problem = assert_problem(response, 503)
    assert problem["type"] == problem_type and "secret" not in problem["detail"]
    assert int(response.headers["Retry-After"]) > 0
    assert assert_problem(client.get("/readyz"), 503)["type"] == problem_type


def test_the_circuit_breaker_fails_fast_then_tries_again(make_app: Callable[..., Flask],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Case 8: in an Elasticsearch brownout every request held a worker for the
    whole read timeout; after BREAKER_FAILURES in a row the store is not tried."""
    app = make_app(BREAKER_FAILURES=3, BREAKER_SECONDS=60)
    state = app.extensions["claimlookup"]
    store = state.store
    calls: list[str] = []

    def unreachable(*args: Any, **kwargs: Any) -> None:
        calls.append("search")
        raise StoreUnavailable("read timed out")

    monkeypatch.setattr(store, "search", unreachable)
    client = app.test_client()
    for _ in range(5):
        assert_problem(client.get("/v1/search?q=idlib"), 503)
    assert len(calls) == 3  # the last two never reached the store
    assert_problem(client.get("/readyz"), 503)
    monkeypatch.undo()
    monkeypatch.setattr(state, "_open_until", 0.0)  # the open period is over
    assert client.get("/v1/search?q=idlib").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_a_chunked_body_over_the_limit_is_a_413(server: int) -> None:
    """Case 13: a chunked body over 2 MB got 400 (werkzeug hands back the truncated part)."""
    body = b'{"text": "Russian jets bombed a market in Idlib killing ' + b"a" * (3 * 1024 * 1024) + b' people"}'
    with socket.create_connection(("127.0.0.1", server), timeout=30) as s:
        s.sendall(b"POST /v1/claims/lookup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_an_http_server_that_is_not_elasticsearch_is_a_503(make_app: Callable[..., Flask]) -> None:
    """Case 7: a store URL pointing at some other HTTP server gave 500 everywhere."""
    import http.server
    import threading

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        client = make_app(STORE_URL=f"http://127.0.0.1:{httpd.server_address[1]}").test_client()
        assert assert_problem(client.get("/readyz"), 503)["type"].startswith("urn:claimlookup:problem:store-")
        for method, url, kwargs in DATA_REQUESTS:
            assert_problem(client.open(url, method=method, **kwargs), 503)
    finally:
        httpd.shutdown()
        httpd.server_close()
