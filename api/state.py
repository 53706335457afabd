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

EXTENSION = "claimlookup"
#: Blueprints whose requests read or write the store.
DATA_BLUEPRINTS = frozenset({"search", "articles", "claims", "catalog"})


class ClaimLookupState:
    """What the app shares between requests: the store and the parsed spec."""

    def __init__(self, store_url: str, cors_origins: Any, spec_path: Path) -> None:
        self.cors_origins = parse_origins(cors_origins)
        self.spec_path = spec_path
        self._store: Store = open_store(store_url)  # no I/O: ValueError for a bad URL
        self._ready = False
        self._lock = threading.Lock()
        #: (monotonic time, problem type) of the last store failure a request
        #: met, cleared by the next request the store answers.
        self.last_failure: tuple[float, str] | None = None

    def store_failed(self, problem_type: str) -> None:
        self.last_failure = (time.monotonic(), problem_type)

    def store_answered(self) -> None:
        self.last_failure = None

    @property
    def store(self) -> Store:
        """The app's store, set up on first use (StoreUnavailable if it cannot be)."""
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
    state = ClaimLookupState(app.config["STORE_URL"], app.config["CORS_ORIGINS"], spec_path)
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
