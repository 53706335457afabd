"""Every setting the product reads from the environment, in one place.

``Settings.from_env()`` reads them all (``CLAIMLOOKUP_<FIELD NAME>``, plus
``XDG_CACHE_HOME``); nothing else in ``claimlookup/``, ``api/`` or
``indexer/`` reads the environment. The API turns them into its Flask config
(``api.create_app``), the indexer takes its default store from them, the
embedder its threads and cache directory. README.md, "Configuration", lists
each one (``tests/test_settings.py`` checks that it does).

Values are taken as given: text settings keep an empty value (an empty
``CLAIMLOOKUP_API_KEY`` still means no key), integer, number and true/false
settings must parse (``ValueError`` naming the variable otherwise). Unset means the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

#: The store when ``CLAIMLOOKUP_STORE_URL`` is unset: a SQLite file under the working directory.
DEFAULT_STORE_URL = "sqlite:///data/claimlookup.db"
#: Prefix of the product's own variables.
PREFIX = "CLAIMLOOKUP_"


_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _parse_bool(variable: str, raw: str) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``, any case)."""
    value = raw.strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(f"{variable}: not true or false: {raw!r}")


@dataclass(frozen=True)
class Settings:
    """The settings, with their defaults; ``Settings()`` is the all-defaults one."""

    store_url: str = DEFAULT_STORE_URL
    """The store: ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or an Elasticsearch ``http(s)://`` URL."""

    es_api_key: str | None = None
    """Elasticsearch: API key, the base64 ``encoded`` value or ``id:api_key``; not with a user name."""

    es_username: str | None = None
    """Elasticsearch: user name for basic authentication (with ``es_password``)."""

    es_password: str | None = None
    """Elasticsearch: password of ``es_username``."""

    es_ca_certs: str | None = None
    """Elasticsearch: path of the PEM CA certificate that signed the cluster's certificate (https only)."""

    es_ssl_fingerprint: str | None = None
    """Elasticsearch: SHA-256 fingerprint of the cluster's certificate, pinned instead of a CA (https only)."""

    es_verify_certs: bool = True
    """Elasticsearch: verify the cluster's TLS certificate; false only for a throwaway development cluster."""

    es_request_timeout: float = 5.0
    """Elasticsearch: seconds a read (search, get, count) may take before it fails as unavailable."""

    es_write_timeout: float = 60.0
    """Elasticsearch: seconds a write (bulk chunk, refresh, index creation) may take."""

    es_shards: int = 1
    """Elasticsearch: primary shards of each index created (setup or rebuild)."""

    es_replicas: int = 1
    """Elasticsearch: replicas of each index (0 on a single node; a rebuild loads with 0 and restores this)."""

    es_vector_index_type: str = "hnsw"
    """Elasticsearch: ``index_options.type`` of the sentence vector: ``hnsw`` (exact float scores) or ``int8_hnsw``."""

    api_key: str | None = None
    """The write key (``POST``/``DELETE``); unset or empty: every write is refused (403)."""

    read_api_key: str | None = None
    """If set, reads need this key (or the write key); unset: reads are open."""

    cors_origins: str = ""
    """Comma-separated origins allowed cross-origin, or ``*``; empty: no CORS."""

    embed_threads: int = 1
    """onnxruntime intra-op threads per process for sentence embeddings and the claim-relation model."""

    relation_threads: int = 2
    """Threads one call of the claim-relation model spreads its pairs over (the calling one
    and helpers; each run single-threaded): a lookup uses the cores other requests leave idle. 1: off."""

    relation_memo: int = 20_000
    """(claim, passage) pairs whose claim-relation logits each process remembers (~180 bytes a
    pair), so a claim looked up again or a page scanned again skips the model's runs. 0: off."""

    blas_threads: int = 1
    """BLAS threads (numpy's OpenBLAS; faiss's too) in each process that loads the NLP
    pipeline: spaCy's NER runs its matrix products there; processes, not BLAS threads,
    use the cores. 0: the libraries' default (one per core)."""

    gc_full_every: int = 1000
    """API workers: one full cycle collection every N requests (survivors frozen in between); 0: off."""

    max_page_size: int = 100
    """API: cap on ``size``."""

    max_query_length: int = 500
    """API: characters of ``q``."""

    max_query_string: int = 3900
    """API: bytes of the whole query string (414 above); gunicorn refuses request lines over 4094."""

    max_content_length: int = 2 * 1024 * 1024
    """API: bytes of a request body (413 above)."""

    max_batch_articles: int = 100
    """API: articles per ``POST /v1/articles``."""

    retry_after: int = 10
    """API: seconds sent in ``Retry-After`` with every 503."""

    workers: int = 2
    """Server (``gunicorn.conf.py``): worker processes."""

    threads: int = 16
    """Server: threads per worker; a thread waits on one client or the store while the others answer."""

    read_timeout: int = 10
    """Server: seconds a client may stay silent while sending a request (or reading the answer) before it is dropped."""

    rate_limit: int = 0
    """API: requests per minute per client (its API key, else its address), per worker; 0: no limit."""

    rate_burst: int = 20
    """API: requests a client may send at once before the rate limit applies."""

    proxy_hops: int = 0
    """API: trusted reverse proxies in front; the client address is then taken from ``X-Forwarded-For``."""

    breaker_failures: int = 5
    """API: after this many requests in a row find the store unreachable, answer 503 without trying it (0: off) ..."""

    breaker_seconds: int = 10
    """... for this many seconds; then one request tries the store again."""

    metrics_dir: str | None = field(default=None, metadata={"env": "PROMETHEUS_MULTIPROC_DIR"})
    """``PROMETHEUS_MULTIPROC_DIR``: where workers share their metrics (``gunicorn.conf.py`` sets it up)."""

    cache_home: str | None = field(default=None, metadata={"env": "XDG_CACHE_HOME"})
    """``XDG_CACHE_HOME``: base of the cache of the six-layer teacher embedder (tests,
    benchmarks, training; the service does not use it); unset or empty: ``~/.cache``."""

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable of the field ``name``."""
        for f in fields(Settings):
            if f.name == name:
                return str(f.metadata.get("env", PREFIX + name.upper()))
        raise KeyError(name)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> environment variable, for every setting."""
        return {f.name: cls.variable(f.name) for f in fields(cls)}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``environ`` (default: ``os.environ``)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            variable = cls.variable(f.name)
            raw = environ.get(variable)
            if raw is None:
                continue
            if isinstance(f.default, bool):
                values[f.name] = _parse_bool(variable, raw)
            elif isinstance(f.default, int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ValueError(f"{variable}: not an integer: {raw!r}") from None
            elif isinstance(f.default, float):
                try:
                    values[f.name] = float(raw)
                except ValueError:
                    raise ValueError(f"{variable}: not a number: {raw!r}") from None
            else:
                values[f.name] = raw
        return cls(**values)

    @property
    def cache_base(self) -> Path:
        """``$XDG_CACHE_HOME``, or ``~/.cache`` when it is unset or empty."""
        return Path(self.cache_home) if self.cache_home else Path.home() / ".cache"
