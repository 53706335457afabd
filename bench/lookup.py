"""Claim lookup latency over HTTP: gunicorn, 2 workers, seeds + FA-KES.

    .venv/bin/python -m bench.lookup                        # 400 lookups, 1 client
    .venv/bin/python -m bench.lookup --requests 1000 --clients 4

Builds (or reuses) a SQLite store holding the seed articles and the FA-KES
corpus through the ingest pipeline, starts gunicorn as the README does
(``gunicorn.conf.py``, ``--workers`` workers) on a free port of 127.0.0.1,
times the cold start (until ``/readyz`` answers; then the first lookup each
worker answers), warms the workers up, then sends ``--requests`` lookups
(``POST /v1/claims/lookup``) from ``--clients`` threads, each a real claim: a
sentence of a FA-KES article (12-40 words, chosen with a fixed seed). Prints
p50/p90/p99 latency as the client sees it and requests/s, then stops the
server. With ``--scans N`` (default 20) it also times whole-article scans of
N FA-KES articles of 25-35 sentences, ``POST /v1/claims/scan {text}`` and
``GET /v1/articles/{id}/reports``. Targets: lookup p50 <= 20 ms, p99 <= 60 ms
with one client; a 30-sentence scan <= 300 ms median.

The relation model's pair memo is on, as served (each worker remembers the
pairs it scored): a scan by id right after the same page's scan by text
reads some of its pairs; ``CLAIMLOOKUP_RELATION_MEMO=0`` measures without
it. With ``--again`` the same claims are then sent once more, as a newsroom's
repeated traffic would (a claim many people check, a page many readers open):
the relation model's pair memo answers what it has scored before
(``caches.RELATION_PAIRS``; ``CLAIMLOOKUP_RELATION_MEMO=0`` turns it off); the figures of the first pass are the ones to
compare with the targets.

Traffic goes to 127.0.0.1 only; the loop is bounded by ``--requests`` and
by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import DEFAULT_STORE, ensure_store, fakes_rows
from bench.server import free_port, percentile, request, send_all, start_server, stop_server, wait_ready
from claimlookup.store import open_store

ENDPOINT = "/v1/claims/lookup"
SCAN_ENDPOINT = "/v1/claims/scan"
ARTICLE_REPORTS = "/v1/articles/{}/reports"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def claims(count: int, seed: int = 7) -> list[str]:
    """Real claims: FA-KES sentences of 12-40 words, ``count`` different ones
    (drawn with a fixed seed; a repeat is drawn again: the relation model's
    pair memo would answer it)."""
    pool = []
    for row in fakes_rows():
        for sentence in _SENTENCE.split(row["article_content"]):
            words = sentence.split()
            if 12 <= len(words) <= 40 and "\ufffd" not in sentence:
                pool.append(" ".join(words))
    rng = random.Random(seed)
    chosen: dict[str, None] = {}
    wanted = min(count, len(set(pool)))
    while len(chosen) < wanted:
        chosen[rng.choice(pool)] = None
    return list(chosen)


def post(port: int, text: str, limit: int = 10) -> tuple[int, float]:
    return request(port, "POST", ENDPOINT, {"text": text, "limit": limit})


def scan_articles(store_url: str, count: int, low: int = 25, high: int = 35) -> list[tuple[str, str]]:
    """(id, title + body) of FA-KES articles with ``low``-``high`` stored sentences."""
    store = open_store(store_url)
    chosen: list[tuple[str, str]] = []
    try:
        for row in fakes_rows():
            if len(chosen) >= count:
                break
            try:
                article = store.get_article(f"fa-kes:{row['unit_id']}")
            except KeyError:
                continue
            if low <= len(article.sentences) <= high and article.id not in dict(chosen):
                chosen.append((article.id, f"{article.title}\n\n{article.body}"))
    finally:
        store.close()
    return chosen


def time_scans(port: int, articles: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Median ms of a scan of each article by text and by id, over HTTP."""
    by_text, by_id, statuses = [], [], set()
    for article_id, text in articles:
        status, ms = request(port, "POST", SCAN_ENDPOINT, {"text": text})
        by_text.append(ms)
        statuses.add(status)
        status, ms = request(port, "GET", ARTICLE_REPORTS.format(quote(article_id, safe="")))
        by_id.append(ms)
        statuses.add(status)
    return {"articles": len(articles), "scan_text_p50_ms": round(statistics.median(by_text), 1),
            "scan_id_p50_ms": round(statistics.median(by_id), 1), "scan_statuses": sorted(statuses)}


def run(port: int, texts: Sequence[str], clients: int, max_seconds: float) -> tuple[list[float], dict[int, int], float]:
    """Send every text once from ``clients`` threads; (latencies ms, status counts, wall seconds)."""
    load = send_all(port, [("POST", ENDPOINT, {"text": text, "limit": 10}) for text in texts], clients, max_seconds)
    return load.all_latencies(), {int(k): v for k, v in load.statuses.items()}, load.seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE, help="SQLite file (built if missing)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--again", action="store_true",
                        help="then send the same claims once more (repeated traffic), reported apart")
    parser.add_argument("--scans", type=int, default=20,
                        help="also scan this many 25-35-sentence articles, by text and by id (0: none)")
    args = parser.parse_args(argv)

    store_url = ensure_store(args.store)
    port = free_port()
    started = time.perf_counter()
    server = start_server(store_url, port, args.workers)
    try:
        wait_ready(port, server)
        ready_s = time.perf_counter() - started
        # Cold start: the first lookups after /readyz (each worker warmed itself up).
        first = [post(port, text)[1] for text in claims(args.workers, seed=2)]
        warm = claims(4 * args.workers, seed=1)
        run(port, warm, clients=args.workers, max_seconds=120)  # loads spaCy + the embedder in each worker
        texts = claims(args.requests)
        latencies, statuses, seconds = run(port, texts, args.clients, args.max_seconds)
        again = run(port, texts[:len(latencies)], args.clients, args.max_seconds) if args.again else None
        scans = time_scans(port, scan_articles(store_url, args.scans)) if args.scans else {}
        if args.scans and args.again:
            repeated_scans = time_scans(port, scan_articles(store_url, args.scans))
            scans |= {f"{k}_again": v for k, v in repeated_scans.items() if k.endswith("p50_ms")}
            scans["scan_statuses"] = sorted(set(scans["scan_statuses"]) | set(repeated_scans["scan_statuses"]))
    finally:
        stop_server(server)
    result = {"requests": len(latencies), "clients": args.clients, "workers": args.workers,
              "statuses": {str(k): v for k, v in sorted(statuses.items())},
              "p50_ms": round(statistics.median(latencies), 1), "p90_ms": round(percentile(latencies, 90), 1),
              "p99_ms": round(percentile(latencies, 99), 1),
              "requests_per_s": round(len(latencies) / seconds, 1), "ready_s": round(ready_s, 1),
              "first_lookups_ms": [round(ms, 1) for ms in first]} | scans
    if again is not None:
        repeated, repeated_statuses, repeated_seconds = again
        statuses = {k: statuses.get(k, 0) + repeated_statuses.get(k, 0) for k in {*statuses, *repeated_statuses}}
        result |= {"again_p50_ms": round(statistics.median(repeated), 1),
                   "again_p99_ms": round(percentile(repeated, 99), 1),
                   "again_requests_per_s": round(len(repeated) / repeated_seconds, 1),
                   "again_statuses": {str(k): v for k, v in sorted(repeated_statuses.items())}}
        print(f"the same {len(repeated)} lookups again: p50 {result['again_p50_ms']} ms, "
              f"p99 {result['again_p99_ms']} ms, {result['again_requests_per_s']} requests/s; "
              f"statuses {result['again_statuses']}")
    print(f"{result['requests']} lookups, {args.clients} client(s), {args.workers} workers: "
          f"p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, "
          f"{result['requests_per_s']} requests/s; statuses {result['statuses']}")
    print(f"cold start: /readyz after {result['ready_s']} s; first lookups after it {result['first_lookups_ms']} ms")
    if scans:
        print(f"scan of {scans['articles']} articles of 25-35 sentences: by text p50 {scans['scan_text_p50_ms']} ms, "
              f"by id p50 {scans['scan_id_p50_ms']} ms; statuses {scans['scan_statuses']}")
    if "scan_text_p50_ms_again" in scans:
        print(f"the same scans again: by text p50 {scans['scan_text_p50_ms_again']} ms, "
              f"by id p50 {scans['scan_id_p50_ms_again']} ms")
    print(json.dumps(result))
    return 0 if set(statuses) == {200} and set(scans.get("scan_statuses", [200])) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
