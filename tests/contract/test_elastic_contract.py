"""The store contract against a live Elasticsearch.

Runs only when ``CLAIMLOOKUP_ES_URL`` names a cluster (see
docs/store-elastic.md: ``docker compose up -d elasticsearch`` then
``CLAIMLOOKUP_ES_URL=https://localhost:9200 make test``, with the store's
credentials and CA from the ``CLAIMLOOKUP_ES_*`` settings). Each test gets its
own index prefix, and every index under it is deleted afterwards, so runs
never see each other's data and leave nothing behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from claimlookup.settings import Settings
from claimlookup.store.elastic import ElasticConfig, ElasticStore

from .suite import StoreContract

ES_URL = os.environ.get("CLAIMLOOKUP_ES_URL", "")

pytestmark = [
    pytest.mark.es,
    pytest.mark.skipif(not ES_URL, reason="no live Elasticsearch: set CLAIMLOOKUP_ES_URL=http://localhost:9200 "
                                          "(docker compose up -d elasticsearch) to run the store contract on it"),
]


@pytest.fixture(scope="module")
def admin() -> Iterator[Elasticsearch]:
    """A plain client for cleanup only; the tests themselves go through the store."""
    options = ElasticConfig.from_settings(Settings.from_env()).client_options(ES_URL)
    client = Elasticsearch(**{**options, "request_timeout": 30})  # the store's credentials and TLS
    yield client
    client.close()


def drop_indices(admin: Elasticsearch, prefix: str) -> None:
    """Delete every index of a test prefix by name (wildcard deletes are refused
    by default: action.destructive_requires_name)."""
    names = list(admin.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if names:
        admin.indices.delete(index=names)


class TestElasticStore(StoreContract):
    @pytest.fixture
    def store(self, admin: Elasticsearch) -> Iterator[ElasticStore]:
        prefix = f"claimlookup-test-{uuid.uuid4().hex[:12]}"
        store = ElasticStore(ES_URL, prefix)
        store.setup()
        try:
            yield store
        finally:
            store.close()
            drop_indices(admin, prefix)
