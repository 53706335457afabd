"""Search stores: the ``Store`` protocol and ``open_store(url)``.

URLs (``open_store()`` without one: ``CLAIMLOOKUP_STORE_URL``, whose default
is ``claimlookup.settings.DEFAULT_STORE_URL``)::

    sqlite:///data/claimlookup.db       relative path (relative to the cwd)
    sqlite:////var/lib/claimlookup.db   absolute path
    http://localhost:9200                Elasticsearch (https too)

Opening a store never touches the disk or the network; call ``setup()`` to
create it, or just use it if it exists.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from claimlookup.settings import Settings
from claimlookup.store.base import ArticleNotFound, Store, StoreCorrupt, StoreError, StoreUnavailable

__all__ = ["ArticleNotFound", "Store", "StoreCorrupt", "StoreError", "StoreUnavailable", "open_store"]

_SQLITE_PREFIX = "sqlite:///"


def open_store(url: str | None = None) -> Store:
    """The store a URL names (None: the configured one, ``Settings.store_url``);
    ValueError for a URL no adapter understands."""
    if url is None:
        url = Settings.from_env().store_url
    if url.startswith(_SQLITE_PREFIX):
        path = url[len(_SQLITE_PREFIX):]
        if not path or path.endswith("/"):
            raise ValueError(f"store URL {url!r} names no database file")
        from claimlookup.store.sqlite import SQLiteStore

        return SQLiteStore(path)
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        from claimlookup.store.elastic import ElasticStore

        return ElasticStore(url)
    raise ValueError(
        f"unsupported store URL {url!r}: use sqlite:///relative/path.db, "
        "sqlite:////absolute/path.db or http(s)://host:port"
    )
