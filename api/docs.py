"""The contract and an interactive page for it, served by the app itself.

``/openapi.yaml`` is the checked-in file as is; ``/openapi.json`` the same
document as JSON (what the docs page loads). ``/docs`` is a small
self-contained page (``api/static/``: no CDN, no third-party code) that lists
every operation and sends requests from the browser.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory

from api.state import get_state

STATIC = Path(__file__).parent / "static"

bp = Blueprint("docs", __name__)


@bp.get("/openapi.yaml")
def openapi_yaml():  # type: ignore[no-untyped-def]
    return current_app.response_class(get_state().spec_text, mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json():  # type: ignore[no-untyped-def]
    return get_state().spec


@bp.get("/docs")
def docs_page():  # type: ignore[no-untyped-def]
    return send_from_directory(STATIC, "docs.html", max_age=0)


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):  # type: ignore[no-untyped-def]
    return send_from_directory(STATIC, name, max_age=300)
