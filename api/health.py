"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (the store does).

Both are open even when reads need a key: orchestrators call them without
one, and they reveal nothing about the archive. ``/healthz`` touches nothing
(no store, no model): a worker thread answers it while others wait on the
store. ``/readyz`` pings the store, and answers 503 while the last data
request met a store failure (a corrupt page passes a ping but fails a
search): until a data request succeeds again, or ``FAILURE_MEMORY_S`` pass.
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from api.errors import Problem
from api.state import get_state, get_store

#: How long a data request's store failure keeps /readyz at 503 when no data
#: request succeeds meanwhile.
FAILURE_MEMORY_S = 60.0

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    get_store().ping()  # StoreUnavailable -> 503 problem with Retry-After
    failure = get_state().last_failure
    if failure is not None and time.monotonic() - failure[0] < FAILURE_MEMORY_S:
        raise Problem(503, "Not ready", "The store answers a ping but failed the last data request "
                      f"({failure[1]}); see the server log.", failure[1],
                      headers={"Retry-After": str(current_app.config["RETRY_AFTER"])})
    return {"status": "ready"}
