"""One error envelope for every error: ``application/problem+json`` (RFC 9457).

Body: ``type``, ``title``, ``status``, ``detail`` and, for validation errors,
``errors``: a flat map from field path (``"q"``, ``"articles.2.title"``) to
its messages. Domain exceptions are mapped to status codes here and nowhere
else; views simply let them propagate. HTML is never returned, not even for a
404 on an unknown path, a 405 or an unhandled bug (500, without a traceback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from flask import Flask, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from claimlookup.lookup import ClaimNotEnglish, ClaimTooShort
from claimlookup.pipeline import InvalidArticle
from claimlookup.query import InvalidQuery
from claimlookup.store.base import ArticleNotFound, StoreCorrupt, StoreError, StoreRebuilding, StoreUnavailable

PROBLEM_MIMETYPE = "application/problem+json"

#: Problem types (documented in docs/api.md). Plain HTTP errors (unknown path,
#: wrong method, body too large) use "about:blank": the status says it all.
VALIDATION = "urn:claimlookup:problem:validation-error"
MALFORMED = "urn:claimlookup:problem:malformed-request"
NOT_FOUND = "urn:claimlookup:problem:article-not-found"
AUTH_REQUIRED = "urn:claimlookup:problem:authentication-required"
FORBIDDEN = "urn:claimlookup:problem:forbidden"
WRITES_DISABLED = "urn:claimlookup:problem:writes-disabled"
STORE_UNAVAILABLE = "urn:claimlookup:problem:store-unavailable"
STORE_CORRUPT = "urn:claimlookup:problem:store-corrupt"
STORE_ERROR = "urn:claimlookup:problem:store-error"
QUERY_TOO_LONG = "urn:claimlookup:problem:request-line-too-long"
INTERNAL = "urn:claimlookup:problem:internal-error"


class Problem(Exception):
    """An error the API answers with a problem document. Raise it from views,
    auth or hooks; ``errors`` is the per-field map for validation problems."""

    def __init__(self, status: int, title: str, detail: str, type: str = "about:blank",
                 errors: Mapping[str, list[str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})

    def to_response(self) -> Response:
        body: dict[str, Any] = {"type": self.type, "title": self.title,
                                "status": self.status, "detail": self.detail}
        if self.errors is not None:
            body["errors"] = self.errors
        # JSONProvider.response is typed as werkzeug's sansio Response; it is the app's response_class.
        response = cast(Response, current_app.json.response(body))
        response.status_code = self.status
        response.mimetype = PROBLEM_MIMETYPE
        response.headers.update(self.headers)
        return response


def validation_problem(errors: Mapping[str, list[str]], detail: str | None = None) -> Problem:
    fields = ", ".join(sorted(errors))
    return Problem(422, "Invalid request", detail or f"Invalid value for: {fields}.",
                   VALIDATION, errors=errors)


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"a.0.b": ["..."]}``.

    Messages for the whole object (marshmallow's ``_schema``) are keyed by the
    parent path, or ``"_body"`` at the top level.
    """
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key)
            for path, texts in flatten_messages(value, name).items():
                flat.setdefault(path, []).extend(texts)
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    if texts and all(isinstance(t, str) for t in texts):
        return {prefix or "_body": list(texts)}
    flat = {}
    for index, value in enumerate(texts):  # a list of per-item message dicts
        for path, inner in flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)).items():
            flat.setdefault(path, []).extend(inner)
    return flat


def _from_validation_error(error: ValidationError) -> Problem:
    return validation_problem(flatten_messages(error.messages))


def _from_http_exception(error: HTTPException) -> Problem:
    status = error.code or 500
    if status >= 500:
        return _internal_problem()
    headers = {k: v for k, v in error.get_headers() if k.lower() in {"allow", "retry-after"}}
    return Problem(status, error.name, error.description or error.name, headers=headers)


def _internal_problem() -> Problem:
    return Problem(500, "Internal server error",
                   "The server failed to answer this request. This is a bug; it has been logged.",
                   INTERNAL)


def _store_problem(error: StoreError, title: str, detail: str, type: str, unreachable: bool = False) -> Problem:
    """A 503 for a store failure, remembered so that /readyz says not ready
    (not a write refused during a rebuild's few-second swap: reads still work)."""
    from api.observability import STORE_ERRORS
    from api.state import DATA_BLUEPRINTS, CircuitOpen, get_state

    current_app.logger.warning("%s: %s", title.lower(), error)
    # Remembered from data requests only (/readyz's own ping is not one), and not
    # for a write refused during a rebuild's swap or a request never sent.
    if request.blueprint in DATA_BLUEPRINTS and not isinstance(error, (StoreRebuilding, CircuitOpen)):
        get_state().store_failed(type, unreachable=unreachable)
    STORE_ERRORS.labels(type).inc()
    retry_after = str(current_app.config["RETRY_AFTER"])
    return Problem(503, title, detail, type, headers={"Retry-After": retry_after})


def _from_store_unavailable(error: StoreUnavailable) -> Problem:
    detail = getattr(error, "problem_detail", None) or "The search store cannot be reached; try again later."
    return _store_problem(error, "Store unavailable", detail, getattr(error, "problem_type", STORE_UNAVAILABLE),
                          unreachable=True)


def _from_store_corrupt(error: StoreCorrupt) -> Problem:
    return _store_problem(error, "Store corrupt",
                          "The store is damaged or is not a claimlookup store. An operator must restore it from a "
                          "backup or rebuild it (claimlookup-index --reindex); see docs/operations.md.",
                          STORE_CORRUPT)


def _from_store_error(error: StoreError) -> Problem:
    return _store_problem(error, "Store error", "The search store failed to answer; try again later.", STORE_ERROR)


def _from_article_not_found(error: ArticleNotFound) -> Problem:
    article_id = error.args[0] if error.args else ""
    return Problem(404, "Article not found", f"No article has the id {article_id!r}.", NOT_FOUND)


def _from_claim_too_short(error: ClaimTooShort) -> Problem:
    return validation_problem({"text": [str(error)]}, "The text is too short to be a claim.")


def _from_claim_not_english(error: ClaimNotEnglish) -> Problem:
    return validation_problem({"text": [str(error)]}, "The text is not in English.")


def _from_invalid_query(error: InvalidQuery) -> Problem:
    return validation_problem({"q": [str(error)]})


def _from_invalid_article(error: InvalidArticle) -> Problem:
    return validation_problem({"_body": [str(error)]}, "The article cannot be indexed.")


def _from_internal_error(error: InternalServerError) -> Problem:
    # Flask has already logged the original exception (outside testing).
    return _internal_problem()


def register_error_handlers(app: Flask) -> None:
    """Map every exception the API can meet to a problem response."""
    handlers: list[tuple[type[Exception], Any]] = [
        (Problem, lambda e: e),
        (ValidationError, _from_validation_error),
        (StoreUnavailable, _from_store_unavailable),
        (ArticleNotFound, _from_article_not_found),
        (StoreCorrupt, _from_store_corrupt),
        (StoreError, _from_store_error),
        (ClaimTooShort, _from_claim_too_short),
        (ClaimNotEnglish, _from_claim_not_english),
        (InvalidQuery, _from_invalid_query),  # schemas catch these first; the safety net
        (InvalidArticle, _from_invalid_article),
        (InternalServerError, _from_internal_error),
        (HTTPException, _from_http_exception),
    ]
    for exc_type, to_problem in handlers:
        app.register_error_handler(exc_type, _responder(to_problem))


def _responder(to_problem: Any) -> Any:
    def handle(error: Exception) -> Response:
        return to_problem(error).to_response()
    return handle
