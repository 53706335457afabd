"""Per-app objects, kept in ``app.extensions["claimlookup"]``.

One store per app, never per request. The adapter object is built when the
app is created (that does no I/O, and a bad ``STORE_URL`` fails at startup
instead of on every request); it is set up (files, tables, connection) lazily
on the first request that needs it, and closed when the app goes away. A
failed setup is retried by the next request, so /readyz recovers by itself.
"""

from __future__ import annotations

import threading
import time
import weakref
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app, request

from api.cors import parse_origins
from claimlookup.store import Store, open_store
from claimlookup.store.base import StoreUnavailable

EXTENSION = "claimlookup"
#: Blueprints whose requests read or write the store.
DATA_BLUEPRINTS = frozenset({"search", "articles", "claims", "catalog"})


class CircuitOpen(StoreUnavailable):
    """Not sent to the store: it failed too many requests in a row just now."""


class ClaimLookupState:
    """What the app shares between requests: the store and the parsed spec."""

    def __init__(self, store_url: str, cors_origins: Any, spec_path: Path,
                 breaker_failures: int = 0, breaker_seconds: float = 10.0) -> None:
        self.cors_origins = parse_origins(cors_origins)
        self.spec_path = spec_path
        self._store: Store = open_store(store_url)  # no I/O: ValueError for a bad URL
        self._ready = False
        self._lock = threading.Lock()
        #: (monotonic time, problem type) of the last store failure a request
        #: met, cleared by the next request the store answers.
        self.last_failure: tuple[float, str] | None = None
        # The circuit breaker: after ``breaker_failures`` requests in a row found
        # the store unreachable, requests fail fast (503, no store call) for
        # ``breaker_seconds``; then one request tries the store again.
        self.breaker_failures = breaker_failures
        self.breaker_seconds = breaker_seconds
        self._unreachable_in_a_row = 0
        self._open_until = 0.0

    def store_failed(self, problem_type: str, unreachable: bool = False) -> None:
        now = time.monotonic()
        self.last_failure = (now, problem_type)
        if unreachable and self.breaker_failures > 0:
            self._unreachable_in_a_row += 1
            if self._unreachable_in_a_row >= self.breaker_failures:
                self._open_until = now + self.breaker_seconds

    def store_answered(self) -> None:
        self.last_failure = None
        self._unreachable_in_a_row = 0

    @property
    def store(self) -> Store:
        """The app's store, set up on first use (StoreUnavailable if it cannot be;
        CircuitOpen while the breaker is open)."""
        if time.monotonic() < self._open_until:
            raise CircuitOpen(f"the store failed {self._unreachable_in_a_row} requests in a row; not trying it "
                              f"for {self.breaker_seconds:g} s")
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._store.setup()
                    self._ready = True
        return self._store

    def close(self) -> None:
        with self._lock:
            self._ready = False
            self._store.close()

    @cached_property
    def spec_text(self) -> str:
        return self.spec_path.read_text(encoding="utf-8")

    @cached_property
    def spec(self) -> dict[str, Any]:
        return yaml.safe_load(self.spec_text)


def init_state(app: Flask, spec_path: Path) -> ClaimLookupState:
    state = ClaimLookupState(app.config["STORE_URL"], app.config["CORS_ORIGINS"], spec_path,
                             int(app.config.get("BREAKER_FAILURES") or 0),
                             float(app.config.get("BREAKER_SECONDS") or 10))
    app.extensions[EXTENSION] = state

    @app.after_request
    def _store_answered(response: Any) -> Any:
        # A data request the store answered clears the failure /readyz reports.
        if state.last_failure is not None and response.status_code < 500 and request.blueprint in DATA_BLUEPRINTS:
            state.store_answered()
        return response
    # Close the store when the app is garbage-collected or the process exits.
    weakref.finalize(app, state.close)
    return state


def get_state() -> ClaimLookupState:
    return current_app.extensions[EXTENSION]


def get_store() -> Store:
    return get_state().store
