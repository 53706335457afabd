"""Request size limits that Flask does not enforce by itself.

The body limit is Flask's ``MAX_CONTENT_LENGTH`` (413 problem). The query
string is capped here at ``MAX_QUERY_STRING`` bytes (414 problem), below
gunicorn's 4094-byte request line, so that a long GET gets a problem document
from the app rather than gunicorn's own HTML 414 (gunicorn answers that one
before the app sees the request). Longer claims go in a POST body.

JSON bodies: at most ``MAX_JSON_DEPTH`` levels deep (400 beyond), every
string valid Unicode (a lone surrogate is a 422 naming the field), malformed
JSON a 400 that says why.
"""

from __future__ import annotations

from typing import Any

import flask
from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from api.errors import MALFORMED, QUERY_TOO_LONG, Problem, validation_problem
from claimlookup.pipeline import lone_surrogate


def _check_query_string() -> None:
    limit = current_app.config["MAX_QUERY_STRING"]
    if len(request.query_string) > limit:
        raise Problem(414, "URI too long",
                      f"The query string is {len(request.query_string)} bytes; at most {limit} are "
                      "accepted. Send long texts in a POST body.", QUERY_TOO_LONG)


def init_limits(app: Flask) -> None:
    app.before_request(_check_query_string)
    app.json = JSONProvider(app)
    app.request_class = Request


# --- JSON bodies ---------------------------------------------------------------

#: Deepest nesting of a JSON body (objects and arrays); the API's own bodies
#: are at most 4 deep. Deeper is a 400, not a RecursionError.
MAX_JSON_DEPTH = 32


def _unencodable_fields(value: Any) -> tuple[int, dict[str, list[str]]]:
    """(depth of ``value``, {field path: [message]} for every string, key or
    value, that is not valid Unicode: a lone surrogate such as ``"\\ud800"``,
    which JSON can spell but no UTF-8 text can hold). Iterative: any depth."""
    bad: dict[str, list[str]] = {}
    deepest = 0
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if lone_surrogate(item):
                bad[path or "_body"] = ["Not valid Unicode text: it contains an unpaired surrogate code point."]
            continue
        if isinstance(item, dict):
            children = list(item.items())
        elif isinstance(item, list):
            children = list(enumerate(item))
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_JSON_DEPTH:
            break
        for key, child in children:
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and lone_surrogate(key):
                bad[path or "_body"] = ["A key is not valid Unicode text: it contains an unpaired surrogate."]
            stack.append((child, name, depth + 1))
    return deepest, bad


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies bounded in depth and checked for text
    that is not Unicode (a lone surrogate would pass validation and fail in
    the store or the response: a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"the body nests deeper than {MAX_JSON_DEPTH} levels") from None
        depth, bad = _unencodable_fields(value)
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        if bad:
            raise validation_problem(bad, "Some text is not valid Unicode (an unpaired surrogate).")
        return value


class Request(flask.Request):
    """Malformed JSON is a problem document that says what is wrong; a
    chunked body over the limit is a 413, like one with a Content-Length."""

    def get_data(self, cache: bool = True, as_text: bool = False,
                 parse_form_data: bool = False) -> Any:
        raw = super().get_data(cache=True, parse_form_data=parse_form_data)
        limit = self.max_content_length
        if self.content_length is None and limit is not None and len(raw) >= limit:
            # werkzeug stops a chunked body at the limit and hands back the
            # truncated part (then a 400 for broken JSON); one more byte tells.
            self.stream.read(1)  # RequestEntityTooLarge if the body went on
        if as_text:
            return super().get_data(cache=cache, as_text=True, parse_form_data=parse_form_data)
        return raw

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            raise Problem(415, "Unsupported Media Type",
                          "The body must be JSON, sent with 'Content-Type: application/json'.")
        raise Problem(400, "Malformed JSON", f"The body is not valid JSON: {e}.", MALFORMED)
