"""Small response helpers shared by the blueprints."""

from __future__ import annotations

from flask import current_app
from werkzeug.wrappers import Response


def no_content() -> Response:
    """A 204 without a Content-Type (Flask would label the empty body HTML)."""
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]
    return response
