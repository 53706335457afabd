"""Elasticsearch failures as the store's own exceptions: driver errors
(``ApiError``, ``TransportError``), failed bulk items, failed items of an
msearch or mget, and an incomplete delete-by-query. Every translation is
chained (``raise ... from e``); the table is in ``docs/store-elastic.md``.

429 and 5xx mean the cluster is overloaded or down (``StoreUnavailable``, the
API answers 503); other refusals are ``StoreError``s. Three ``StoreUnavailable``
subclasses say what to fix: ``StoreAccessDenied`` (401/403: credentials or
privileges), ``StoreNotSetUp`` (an index or alias is missing) and
``StorePartialResults`` (shards failed or the search timed out).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from elasticsearch import ApiError, TransportError

from claimlookup.store.base import ArticleNotFound, StoreError, StoreRebuilding, StoreUnavailable
from claimlookup.store.elastic.indices import Response

CREDENTIALS = "CLAIMLOOKUP_ES_API_KEY, or CLAIMLOOKUP_ES_USERNAME and CLAIMLOOKUP_ES_PASSWORD"


class StoreAccessDenied(StoreUnavailable):
    """Elasticsearch refused the credentials (401) or they lack a privilege
    for the request (403): the configuration, not the cluster, needs fixing."""

    problem_type = "urn:claimlookup:problem:store-access-denied"
    problem_detail = ("The search store refused the server's credentials or privileges; an operator must fix the "
                      "Elasticsearch connection settings (docs/store-elastic.md).")


class StoreNotSetUp(StoreUnavailable):
    """An index or alias of the store does not exist: run ``setup()`` (the
    indexer or the API does on first use) or fix the index prefix."""

    problem_type = "urn:claimlookup:problem:store-not-set-up"
    problem_detail = ("The search store's indices do not exist; an operator must run the indexer or check the "
                      "index prefix (docs/store-elastic.md).")


class StorePartialResults(StoreUnavailable):
    """A search answered from only some shards (``_shards.failed``) or timed
    out (``timed_out``): its results would be silently incomplete."""

    problem_type = "urn:claimlookup:problem:store-partial-results"
    problem_detail = "The search store answered from only some of its shards or timed out; try again later."


def error_type(error: ApiError) -> str | None:
    """The ``error.type`` of an error response (``index_not_found_exception``...)."""
    body = error.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return body["error"].get("type")
    return None


def translate_api_error(error: ApiError, article_id: str | None = None) -> StoreError:
    """The product exception for an Elasticsearch error response."""
    status, kind = error.meta.status, error_type(error)
    if kind == "cluster_block_exception":  # the old indices' write block during a rebuild's swap
        return StoreRebuilding(f"Elasticsearch refused a write during a rebuild's swap: {error}")
    if status == 401:
        return StoreAccessDenied(f"Elasticsearch refused the credentials (401): check {CREDENTIALS}: {error}")
    if status == 403:
        return StoreAccessDenied(f"Elasticsearch credentials lack a privilege for this request (403); "
                                 f"docs/store-elastic.md lists the privileges needed: {error}")
    if status == 404 and kind == "index_not_found_exception":
        return StoreNotSetUp(f"Elasticsearch index missing (run setup): {error}")
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
    if any(_item_type(item) == "index_not_found_exception" for item in items):  # require_alias: no alias
        return StoreNotSetUp(message)
    if any(_item_type(item) == "cluster_block_exception" for item in items):  # a rebuild's swap window
        return StoreRebuilding(message)
    if any(item.get("status", 500) == 429 or item.get("status", 500) >= 500 for item in items):
        return StoreUnavailable(message)
    return StoreError(message)


def check_delete_by_query(resp: Response) -> None:
    """Raise if a delete-by-query left documents behind."""
    failures = resp.get("failures") or []
    if failures or resp.get("timed_out"):
        raise StoreUnavailable(f"delete-by-query incomplete: {len(failures)} failure(s), "
                               f"timed_out={resp.get('timed_out')}")


def _item_type(item: Response) -> str | None:
    error = item.get("error")
    return error.get("type") if isinstance(error, Mapping) else None


def item_error(item: Response) -> StoreError:
    """The product error for one failed item of an msearch or mget response."""
    error = item.get("error", {})
    reason = f"{error.get('type')}: {error.get('reason')}" if isinstance(error, Mapping) else str(error)
    status = int(item.get("status", 500))
    if _item_type(item) == "index_not_found_exception":
        return StoreNotSetUp(f"Elasticsearch index missing (run setup): {reason}")
    if status in (401, 403) or _item_type(item) == "security_exception":
        return StoreAccessDenied(f"Elasticsearch credentials refused ({status}): {reason}")
    if status == 429 or status >= 500:
        return StoreUnavailable(f"search failed ({status}): {reason}")
    return StoreError(f"search rejected ({status}): {reason}")


def check_complete(resp: Response) -> None:
    """Raise ``StorePartialResults`` if a search or count response is missing
    shards (``_shards.failed``) or timed out: never return partial results."""
    shards = resp.get("_shards") or {}
    failed = int(shards.get("failed") or 0)
    if failed or resp.get("timed_out"):
        reasons = "; ".join(f"{(f.get('reason') or {}).get('type')}: {(f.get('reason') or {}).get('reason')}"
                            for f in shards.get("failures") or [] if isinstance(f, Mapping))
        raise StorePartialResults(f"Elasticsearch answered from {failed} failed of {shards.get('total')} shard(s)"
                                  f"{' and timed out' if resp.get('timed_out') else ''}"
                                  f"{': ' + reasons if reasons else ''}")
