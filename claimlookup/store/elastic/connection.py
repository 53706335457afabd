"""How the adapter connects and what its indices look like when created:
credentials, TLS, timeouts, shards, replicas and the vector index type, from
``claimlookup.settings.Settings`` (its ``es_*`` fields), and
the server version that decides the Elasticsearch 9.2 vector setting.

``ElasticConfig.client_options(url)`` is exactly what the ``Elasticsearch``
client is built with; it is checked when the store is constructed (no I/O),
so a contradictory configuration fails at start-up, not on the first request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from claimlookup.settings import Settings
from claimlookup.store.elastic.indices import Body, Response

MAX_RETRIES = 1  # refused connections and 429/502/503/504 answers; never timeouts
READ_TIMEOUT = 5.0  # default seconds; an outage fails fast instead of hanging a request
WRITE_TIMEOUT = 60.0  # default seconds: bulk chunks, refresh and index creation do more work
VECTOR_INDEX_TYPES = ("hnsw", "int8_hnsw")
#: From this version on, new indices leave vectors out of ``_source`` unless
#: ``index.mapping.exclude_source_vectors`` is false (before it, the setting is unknown).
EXCLUDE_SOURCE_VECTORS_SINCE = (9, 2)
EXCLUDE_SOURCE_VECTORS = "index.mapping.exclude_source_vectors"


@dataclass(frozen=True, slots=True)
class ElasticConfig:
    """Connection and index-creation settings of an ``ElasticStore``."""

    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    ssl_fingerprint: str | None = None
    verify_certs: bool = True
    request_timeout: float = READ_TIMEOUT
    write_timeout: float = WRITE_TIMEOUT
    shards: int = 1
    replicas: int = 1
    vector_index_type: str = "hnsw"

    @classmethod
    def from_settings(cls, settings: Settings) -> ElasticConfig:
        return cls(api_key=settings.es_api_key or None, username=settings.es_username or None,
                   password=settings.es_password, ca_certs=settings.es_ca_certs or None,
                   ssl_fingerprint=settings.es_ssl_fingerprint or None, verify_certs=settings.es_verify_certs,
                   request_timeout=settings.es_request_timeout, write_timeout=settings.es_write_timeout,
                   shards=settings.es_shards, replicas=settings.es_replicas,
                   vector_index_type=settings.es_vector_index_type)

    def check(self, url: str) -> None:
        """ValueError, naming the variables, for a configuration no cluster can accept."""
        if self.api_key and self.username:
            raise ValueError("CLAIMLOOKUP_ES_API_KEY and CLAIMLOOKUP_ES_USERNAME: use one of them, not both")
        if self.password is not None and not self.username:
            raise ValueError("CLAIMLOOKUP_ES_PASSWORD is set without CLAIMLOOKUP_ES_USERNAME")
        if (self.ca_certs or self.ssl_fingerprint) and urlsplit(url).scheme != "https":
            raise ValueError("CLAIMLOOKUP_ES_CA_CERTS and CLAIMLOOKUP_ES_SSL_FINGERPRINT need an https:// store URL")
        if self.ca_certs and self.ssl_fingerprint:
            raise ValueError("CLAIMLOOKUP_ES_CA_CERTS and CLAIMLOOKUP_ES_SSL_FINGERPRINT: use one of them, not both")
        if min(self.request_timeout, self.write_timeout) <= 0:
            raise ValueError("CLAIMLOOKUP_ES_REQUEST_TIMEOUT and CLAIMLOOKUP_ES_WRITE_TIMEOUT must be positive")
        if self.shards < 1 or self.replicas < 0:
            raise ValueError("CLAIMLOOKUP_ES_SHARDS must be at least 1, CLAIMLOOKUP_ES_REPLICAS at least 0")
        if self.vector_index_type not in VECTOR_INDEX_TYPES:
            raise ValueError(f"CLAIMLOOKUP_ES_VECTOR_INDEX_TYPE: {self.vector_index_type!r} is not one of "
                             f"{', '.join(VECTOR_INDEX_TYPES)}")

    def client_options(self, url: str) -> dict[str, Any]:
        """Keyword arguments of ``Elasticsearch(...)`` for ``url``."""
        options: dict[str, Any] = {"hosts": url, "request_timeout": self.request_timeout,
                                   "max_retries": MAX_RETRIES, "retry_on_timeout": False}
        if self.api_key:
            key_id, sep, key = self.api_key.partition(":")
            options["api_key"] = (key_id, key) if sep else self.api_key
        if self.username:
            options["basic_auth"] = (self.username, self.password or "")
        if urlsplit(url).scheme == "https":
            options["verify_certs"] = self.verify_certs
            if self.ca_certs:
                options["ca_certs"] = self.ca_certs
            if self.ssl_fingerprint:
                options["ssl_assert_fingerprint"] = self.ssl_fingerprint
        return options


def parse_version(info: Response) -> tuple[int, int] | None:
    """(major, minor) of a ``GET /`` answer; Serverless (whose number is
    fixed) counts as the newest. None when the answer names no version."""
    version = info.get("version") or {}
    if version.get("build_flavor") == "serverless":
        return (99, 0)
    try:
        major, minor = str(version["number"]).split(".")[:2]
        return int(major), int(minor)
    except (KeyError, ValueError):
        return None


def excludes_source_vectors(version: tuple[int, int] | None) -> bool | None:
    """Whether new indices on this server leave vectors out of ``_source`` by
    default: True from 9.2, False before, None when the version is unknown."""
    return None if version is None else version >= EXCLUDE_SOURCE_VECTORS_SINCE


def index_settings(config: ElasticConfig, *, loading: bool, keep_vectors_setting: bool) -> Body:
    """Index settings added to ``es-mapping.json``'s at creation: shards,
    replicas (0 while a rebuild loads, with refresh off), and on 9.2+ the
    setting that keeps vectors in ``_source`` (``get_sentences`` reads them)."""
    index: Body = {"number_of_shards": config.shards,
                   "number_of_replicas": 0 if loading else config.replicas}
    if loading:
        index["refresh_interval"] = "-1"
    if keep_vectors_setting:
        # Dotted, as the specification types it (``mapping`` is typed without this key).
        index["mapping.exclude_source_vectors"] = False
    return index


def live_settings(config: ElasticConfig) -> Body:
    """What a rebuild restores before its indices go live."""
    return {"index": {"number_of_replicas": config.replicas, "refresh_interval": "1s"}}

