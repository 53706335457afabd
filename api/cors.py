"""CORS, small and explicit.

``CLAIMLOOKUP_CORS_ORIGINS`` is a comma-separated list of origins
(``https://newsroom.example,http://localhost:3000``) or ``*``; unset or empty
means no cross-origin access. Credentials (cookies) are never allowed: the
API authenticates with headers, which a preflight must allow explicitly.

Every ``OPTIONS`` request to a known path is answered here with 204 and an
``Allow`` header; a preflight from an allowed origin also gets the
``Access-Control-Allow-*`` headers. Unknown paths still get the 404 problem.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from api.responses import no_content

ALLOWED_HEADERS = "Authorization, X-API-Key, Content-Type"
EXPOSED_HEADERS = "Retry-After, Location, WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"


def parse_origins(value: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    if not value:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(o.strip().rstrip("/") for o in items if o.strip())


def _allowed_origin() -> str | None:
    """The value for Access-Control-Allow-Origin, or None if not allowed."""
    origin = request.headers.get("Origin")
    origins: frozenset[str] = current_app.extensions["claimlookup"].cors_origins
    if not origin or not origins:
        return None
    if "*" in origins:
        return "*"
    return origin if origin.rstrip("/") in origins else None


def _answer_options() -> Response | None:
    if request.method != "OPTIONS" or request.url_rule is None:
        return None  # unknown paths fall through to the 404 problem
    # Every method of the URL, not just of the rule that matched OPTIONS.
    methods = sorted(set(current_app.url_map.bind_to_environ(request.environ).allowed_methods()) | {"OPTIONS"})
    response = no_content()
    response.headers["Allow"] = ", ".join(methods)
    if request.headers.get("Access-Control-Request-Method") and _allowed_origin():
        response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def _add_cors_headers(response: Response) -> Response:
    if not current_app.extensions["claimlookup"].cors_origins:
        return response
    allowed = _allowed_origin()
    if allowed != "*":
        response.vary.add("Origin")  # the answer depends on the Origin header
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def init_cors(app: Flask) -> None:
    app.before_request(_answer_options)
    app.after_request(_add_cors_headers)
