"""Per-client rate limiting: a token bucket per client, in each worker.

``CLAIMLOOKUP_RATE_LIMIT`` requests per minute per client (0, the default on
a laptop: off; compose.yaml turns it on), with bursts of up to
``CLAIMLOOKUP_RATE_BURST`` requests. Over it: 429 problem+json with
``Retry-After`` (whole seconds until a request would be allowed again).

A client is its API key when it sends one (hashed; an unknown key still
counts as a client of its own, so a wrong key cannot dodge the limit by
changing addresses), else its address: ``REMOTE_ADDR``, or, behind
``CLAIMLOOKUP_PROXY_HOPS`` trusted proxies, the address they forwarded
(``X-Forwarded-For``, read by werkzeug's ProxyFix). The probes, the
specification and the docs are never limited.

Buckets live in each worker process: with N workers a client gets up to N
times the rate (connections are spread across workers by the kernel). That
is the documented bound; the proxy in front (compose.yaml's nginx) is where
a hard global limit belongs.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

from flask import Flask, current_app, request

from api.auth import presented_key
from api.errors import Problem
from api.observability import RATE_LIMITED

RATE_LIMITED_TYPE = "urn:claimlookup:problem:rate-limited"
#: Clients remembered per worker; the least recently seen are forgotten first.
MAX_CLIENTS = 10_000
#: Paths never limited (probes, the specification, the docs page).
UNLIMITED_PREFIXES = ("/healthz", "/readyz", "/openapi", "/docs", "/metrics")


class TokenBuckets:
    """``rate`` tokens per second up to ``burst`` per client; thread-safe."""

    def __init__(self, per_minute: int, burst: int, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take one token: 0.0 if allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)  # most recent last
            if len(self._buckets) > MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]
            return wait


def client_id() -> str:
    key = presented_key()
    if key:
        return "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:16]
    return "addr:" + (request.remote_addr or "?")


def _limit() -> None:
    buckets: TokenBuckets | None = current_app.extensions.get("claimlookup-ratelimit")
    if buckets is None or request.path.startswith(UNLIMITED_PREFIXES) or request.method == "OPTIONS":
        return
    wait = buckets.take(client_id())
    if wait > 0.0:
        RATE_LIMITED.inc()
        limit = current_app.config["RATE_LIMIT"]
        raise Problem(429, "Too many requests",
                      f"This client sent more than {limit} requests per minute; retry after the time in "
                      "Retry-After.", RATE_LIMITED_TYPE, headers={"Retry-After": str(max(1, math.ceil(wait)))})


def init_rate_limit(app: Flask) -> None:
    if int(app.config.get("PROXY_HOPS") or 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    per_minute = int(app.config.get("RATE_LIMIT") or 0)
    if per_minute > 0:
        app.extensions["claimlookup-ratelimit"] = TokenBuckets(per_minute, int(app.config.get("RATE_BURST") or 1))
    app.before_request(_limit)
