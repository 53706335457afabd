"""Elasticsearch failures as the store's own exceptions: driver errors
(``ApiError``, ``TransportError``), failed bulk items, failed items of an
msearch or mget, and an incomplete delete-by-query. Every translation is
chained (``raise ... from e``); the table is in ``docs/store-elastic.md``.

429 and 5xx mean the cluster is overloaded or down (``StoreUnavailable``, the
API answers 503); other refusals are ``StoreError``s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from elasticsearch import ApiError, TransportError

from claimlookup.store.base import ArticleNotFound, StoreError, StoreUnavailable
from claimlookup.store.elastic.indices import Response


def error_type(error: ApiError) -> str | None:
    """The ``error.type`` of an error response (``index_not_found_exception``...)."""
    body = error.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return body["error"].get("type")
    return None


def translate_api_error(error: ApiError, article_id: str | None = None) -> StoreError:
    """The product exception for an Elasticsearch error response."""
    status, kind = error.meta.status, error_type(error)
    if status == 404 and kind == "index_not_found_exception":
        return StoreUnavailable(f"Elasticsearch index missing (run setup): {error}")
    if status == 404 and article_id is not None:
        return ArticleNotFound(article_id)
    if status == 429 or status >= 500:
        return StoreUnavailable(f"Elasticsearch failed: {error}")
    return StoreError(f"Elasticsearch rejected the request: {error}")


@contextmanager
def translated_errors(article_id: str | None = None) -> Iterator[None]:
    """Driver errors -> StoreUnavailable / ArticleNotFound / StoreError, chained."""
    try:
        yield
    except ApiError as e:
        raise translate_api_error(e, article_id) from e
    except TransportError as e:  # ConnectionError, ConnectionTimeout, TLS, serialization
        raise StoreUnavailable(f"Elasticsearch unreachable: {e}") from e


def bulk_error(failures: Sequence[Response]) -> StoreError:
    """The product error for failed bulk items (``streaming_bulk`` results)."""
    items = [next(iter(f.values())) for f in failures]
    first = items[0]
    reason = first.get("error", {})
    if isinstance(reason, Mapping):
        reason = f"{reason.get('type')}: {reason.get('reason')}"
    message = f"{len(items)} document(s) rejected; first {first.get('_id')!r}: {reason}"
    if any(item.get("status", 500) == 429 or item.get("status", 500) >= 500 for item in items):
        return StoreUnavailable(message)
    return StoreError(message)


def check_delete_by_query(resp: Response) -> None:
    """Raise if a delete-by-query left documents behind."""
    failures = resp.get("failures") or []
    if failures or resp.get("timed_out"):
        raise StoreUnavailable(f"delete-by-query incomplete: {len(failures)} failure(s), "
                               f"timed_out={resp.get('timed_out')}")


def item_error(item: Response) -> StoreError:
    """The product error for one failed item of an msearch or mget response."""
    error = item.get("error", {})
    reason = f"{error.get('type')}: {error.get('reason')}" if isinstance(error, Mapping) else str(error)
    status = int(item.get("status", 500))
    if status == 429 or status >= 500:
        return StoreUnavailable(f"search failed ({status}): {reason}")
    return StoreError(f"search rejected ({status}): {reason}")
