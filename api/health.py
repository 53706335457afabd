"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (the store does).

Both are open even when reads need a key: orchestrators call them without
one, and they reveal nothing about the archive.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from api.state import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    get_store().ping()  # StoreUnavailable -> 503 problem with Retry-After
    return {"status": "ready"}
