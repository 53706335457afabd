"""API keys from the environment.

Writes need ``CLAIMLOOKUP_API_KEY``; with none configured, writes are refused
(403) rather than left open. Reads are open unless ``CLAIMLOOKUP_READ_API_KEY``
is set; then they need the read key or the write key. A key is sent as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` and compared in
constant time.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, request

from api.errors import AUTH_REQUIRED, FORBIDDEN, WRITES_DISABLED, Problem

F = TypeVar("F", bound=Callable[..., object])

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="claimlookup"'}


def presented_key() -> str | None:
    """The key the caller sent, if any (Bearer token first, then X-API-Key)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key") or None


def _matches(presented: str, configured: str | None) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII str (a 500 otherwise).
    return bool(configured) and hmac.compare_digest(presented.encode(), str(configured).encode())


def check_write() -> None:
    write_key = current_app.config.get("API_KEY")
    if not write_key:
        raise Problem(403, "Writes disabled",
                      "This server accepts no writes: no API key is configured. Set the "
                      "CLAIMLOOKUP_API_KEY environment variable and send it as "
                      "'Authorization: Bearer <key>' or 'X-API-Key: <key>'.", WRITES_DISABLED)
    key = presented_key()
    if key is None:
        raise Problem(401, "Authentication required",
                      "Send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
                      AUTH_REQUIRED, headers=_CHALLENGE)
    if _matches(key, write_key):
        return
    if _matches(key, current_app.config.get("READ_API_KEY")):
        raise Problem(403, "Forbidden", "The read API key cannot write; use the write key.", FORBIDDEN)
    raise Problem(401, "Authentication required", "The API key is not valid.",
                  AUTH_REQUIRED, headers=_CHALLENGE)


def check_read() -> None:
    read_key = current_app.config.get("READ_API_KEY")
    if not read_key:
        return
    key = presented_key()
    if key is None or not (_matches(key, read_key) or _matches(key, current_app.config.get("API_KEY"))):
        detail = ("The API key is not valid." if key is not None else
                  "Reads need an API key here: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")
        raise Problem(401, "Authentication required", detail, AUTH_REQUIRED, headers=_CHALLENGE)


def requires_write_key(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_write()
        return view(*args, **kwargs)
    return cast(F, wrapper)


def requires_read_key(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_read()
        return view(*args, **kwargs)
    return cast(F, wrapper)
