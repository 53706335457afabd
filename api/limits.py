"""Request size limits that Flask does not enforce by itself.

The body limit is Flask's ``MAX_CONTENT_LENGTH`` (413 problem). The query
string is capped here at ``MAX_QUERY_STRING`` bytes (414 problem), below
gunicorn's 4094-byte request line, so that a long GET gets a problem document
from the app rather than gunicorn's own HTML 414 (gunicorn answers that one
before the app sees the request). Longer claims go in a POST body.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from api.errors import QUERY_TOO_LONG, Problem


def _check_query_string() -> None:
    limit = current_app.config["MAX_QUERY_STRING"]
    if len(request.query_string) > limit:
        raise Problem(414, "URI too long",
                      f"The query string is {len(request.query_string)} bytes; at most {limit} are "
                      "accepted. Send long texts in a POST body.", QUERY_TOO_LONG)


def init_limits(app: Flask) -> None:
    app.before_request(_check_query_string)
