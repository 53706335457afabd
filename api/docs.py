"""The contract and an interactive page for it, served by the app itself.

``/openapi.yaml`` is the checked-in file as is; ``/openapi.json`` the same
document as JSON (what the docs page loads). ``/docs`` is a small
self-contained page (``api/static/``: no CDN, no third-party code) that lists
every operation and sends requests from the browser.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, current_app, redirect, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from api.state import get_state

STATIC = Path(__file__).parent / "static"

bp = Blueprint("docs", __name__)


@bp.get("/openapi.yaml")
def openapi_yaml() -> ResponseReturnValue:
    return current_app.response_class(get_state().spec_text, mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return get_state().spec


@bp.get("/")
def index() -> ResponseReturnValue:
    """Where to go from the root: a person with curl or a browser lands here."""
    return {"name": "claimlookup", "docs": "/docs", "openapi": "/openapi.json", "health": "/healthz",
            "endpoints": ["/v1/search", "/v1/articles", "/v1/claims/lookup", "/v1/claims/scan", "/v1/entities",
                          "/v1/sources"]}


@bp.get("/docs")
def docs_page() -> ResponseReturnValue:
    return _static_file("docs.html", max_age=0)


@bp.get("/docs/")
def docs_page_slash() -> ResponseReturnValue:
    return redirect("/docs", code=308)


@bp.get("/docs/assets/<name>")
def docs_asset(name: str) -> ResponseReturnValue:
    return _static_file(name, max_age=300)


def _static_file(name: str, max_age: int) -> Response:
    """A small file of api/static/, read whole (no open file outlives the
    request), with an ETag so browsers revalidate cheaply."""
    path = safe_join(str(STATIC), name)
    if path is None or not Path(path).is_file():
        raise NotFound()
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = current_app.response_class(Path(path).read_bytes(), mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.add_etag()
    return response.make_conditional(request)
