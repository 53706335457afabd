"""``ElasticStore``: the ``Store`` protocol on Elasticsearch 8 (and 9 through
REST compatibility). A thin class: it sends the bodies ``queries`` and
``documents`` build, hands the answers to ``responses``, and turns driver
errors into ``StoreError``s (``errors``). It owns the client, the timeouts
and the order of a write's phases (sentences, commit marker, cleanup,
refresh); ``docs/store-elastic.md`` explains why that order keeps every
article fully old or fully new to readers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError, helpers

from claimlookup.model import (
    Article,
    Candidate,
    EntityCount,
    Filters,
    ParsedQuery,
    SearchPage,
    SearchRequest,
    SentenceRef,
    SourceCount,
    StoredSentence,
    WriteOutcome,
    WriteStatus,
)
from claimlookup.store.base import StoreCorrupt, StoreUnavailable
from claimlookup.store.common import plan_writes, query_vectors, write_outcome
from claimlookup.store.elastic.documents import (
    WRITE_BATCH,
    article_action,
    article_doc_id,
    batches,
    build_cleanup_body,
    build_delete_sentences_body,
    sentence_actions,
    sentence_id,
)
from claimlookup.store.elastic.errors import bulk_error, check_delete_by_query, error_type, translated_errors
from claimlookup.store.elastic.indices import (
    KINDS,
    Body,
    IndexNames,
    Response,
    alias_names,
    alias_swap_actions,
    index_body,
    load_mapping,
    parse_alias_indices,
    timestamp,
    versioned_names,
)
from claimlookup.store.elastic.queries import (
    build_entities_body,
    build_knn_searches,
    build_lexical_body,
    build_search_body,
    build_sources_body,
    search_index,
)
from claimlookup.store.elastic.responses import (
    facet_entity_keys,
    found_sources,
    hit_article_ids,
    msearch_responses,
    parse_article,
    parse_article_facts,
    parse_candidates,
    parse_content_hashes,
    parse_entities_response,
    parse_msearch_candidates,
    parse_search_response,
    parse_sources_response,
    parse_stored_sentence,
)

READ_TIMEOUT = 5.0  # seconds; an outage fails fast instead of hanging a request
WRITE_TIMEOUT = 60.0  # bulk chunks, delete-by-query and refresh do more work
MAX_RETRIES = 1  # refused connections and 429/502/503/504 answers; never timeouts
READ_ATTEMPTS = 3  # get_article re-reads when a concurrent update moved the generation
BULK_CHUNK = 500  # documents per bulk request


class ElasticStore:
    """The Store protocol on Elasticsearch 8 (and 9 through REST compatibility).

    ``url`` is the cluster (``http://localhost:9200``); ``index_prefix`` names
    the aliases. Constructing it never touches the network: the client is
    created on first use and reused. ``client`` and ``indices`` are for tests
    and for the staging store of ``rebuild()``.
    """

    def __init__(self, url: str, index_prefix: str = "claimlookup", *,
                 client: Elasticsearch | None = None, indices: IndexNames | None = None) -> None:
        if not index_prefix or index_prefix != index_prefix.lower() or not index_prefix[0].isalnum() \
                or any(ch in index_prefix for ch in ' "*\\<|,>/?#:'):
            raise ValueError(f"invalid index prefix {index_prefix!r}: lower case, no spaces or \\/*?\"<>|,#:")
        self._url = url
        self._prefix = index_prefix
        self._names = indices or alias_names(index_prefix)
        self._client = client
        self._owns_client = client is None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ElasticStore({self._url!r}, {self._prefix!r})"

    @property
    def indices(self) -> IndexNames:
        return self._names

    @property
    def _es(self) -> Elasticsearch:
        """The client, created on first use; reads time out after READ_TIMEOUT."""
        with self._lock:
            if self._client is None:
                self._client = Elasticsearch(self._url, request_timeout=READ_TIMEOUT, max_retries=MAX_RETRIES,
                                             retry_on_timeout=False)
            return self._client

    def _writer(self) -> Elasticsearch:
        """The same client (same connection pool) with the longer write timeout."""
        return self._es.options(request_timeout=WRITE_TIMEOUT)

    # --- lifecycle -----------------------------------------------------------

    def setup(self) -> None:
        mapping = load_mapping()
        with translated_errors():
            for kind in KINDS:
                name = getattr(self._names, kind)
                if not self._es.indices.exists(index=name):
                    concrete = getattr(versioned_names(self._prefix, mapping["version"], "initial"), kind)
                    self._create_index(concrete, index_body(mapping, kind, alias=name))

    def _create_index(self, name: str, body: Body) -> None:
        try:
            self._writer().indices.create(index=name, **body)
        except BadRequestError as e:
            if error_type(e) != "resource_already_exists_exception":  # a concurrent setup won
                raise

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()

    def ping(self) -> None:
        with translated_errors():
            health = self._es.cluster.health().body
        if health.get("status") == "red":
            raise StoreUnavailable("Elasticsearch cluster health is red")

    # --- writing -------------------------------------------------------------

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        with translated_errors():
            resp = self._es.mget(index=self._names.articles, ids=[article_doc_id(i) for i in dict.fromkeys(ids)],
                                 source_includes=["article_id", "content_hash"])
        return parse_content_hashes(resp.body)

    def write_articles(self, articles: Iterable[Article]) -> Iterator[WriteOutcome]:
        for batch in batches(articles, WRITE_BATCH):
            yield from self._write_batch(batch)

    def _write_batch(self, batch: list[Article]) -> list[WriteOutcome]:
        statuses = plan_writes(batch, self.content_hashes([a.id for a in batch]))
        changed = [a for a, s in zip(batch, statuses, strict=True) if s is not WriteStatus.UNCHANGED]
        if changed:
            with translated_errors():
                self._bulk(action for a in changed for action in sentence_actions(a, self._names.sentences))
                self._bulk(article_action(a, self._names.articles) for a in changed)
                self._delete_sentences(build_cleanup_body({a.id: a.content_hash for a in changed}))
                self._writer().indices.refresh(index=self._names.all())
        return [write_outcome(a, s) for a, s in zip(batch, statuses, strict=True)]

    def _bulk(self, actions: Iterable[Body]) -> None:
        """Send actions in chunks; raise after the last chunk if any item failed."""
        failures = [item for ok, item in helpers.streaming_bulk(
            self._writer(), actions, chunk_size=BULK_CHUNK, raise_on_error=False, max_retries=2,
            initial_backoff=1, max_backoff=8) if not ok]
        if failures:
            raise bulk_error(failures)

    def _delete_sentences(self, body: Body) -> None:
        resp = self._writer().delete_by_query(index=self._names.sentences, conflicts="proceed", **body)
        check_delete_by_query(resp.body)

    def delete_article(self, article_id: str) -> None:
        with translated_errors(article_id):
            self._writer().delete(index=self._names.articles, id=article_doc_id(article_id))
        with translated_errors():
            self._delete_sentences(build_delete_sentences_body(article_id))
            self._writer().indices.refresh(index=self._names.all())

    @contextmanager
    def rebuild(self) -> Iterator[ElasticStore]:
        mapping = load_mapping()
        new = versioned_names(self._prefix, mapping["version"], timestamp())
        try:
            with translated_errors():
                for kind in KINDS:
                    self._create_index(getattr(new, kind), index_body(mapping, kind))
            yield ElasticStore(self._url, self._prefix, client=self._es, indices=new)
            with translated_errors():
                self._swap_aliases(new)
        except BaseException:
            self._discard(new)
            raise

    def _swap_aliases(self, new: IndexNames) -> None:
        self._writer().indices.refresh(index=new.all())
        old = [name for alias in self._names.all() for name in self._alias_indices(alias)]
        self._writer().indices.update_aliases(actions=alias_swap_actions(new, self._names, old))

    def _alias_indices(self, alias: str) -> list[str]:
        try:
            return parse_alias_indices(self._es.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _discard(self, new: IndexNames) -> None:
        """Best effort: a failed delete must not hide the error that caused it."""
        try:
            self._writer().indices.delete(index=new.all(), ignore_unavailable=True)
        except (ApiError, TransportError):
            pass

    # --- reading -------------------------------------------------------------

    def get_article(self, article_id: str) -> Article:
        """Read the article document, then exactly its generation's sentences.
        A concurrent update can delete that generation between the two reads:
        then the article document has changed, and reading again settles it."""
        for _ in range(READ_ATTEMPTS):
            with translated_errors(article_id):
                src = self._es.get(index=self._names.articles, id=article_doc_id(article_id)).body["_source"]
            ids = [sentence_id(article_id, src["content_hash"], p) for p in src["positions"]]
            sentences = self._mget_sentences(ids, with_vectors=False)
            if len(sentences) == len(ids):
                return parse_article(src, sentences)
        raise StoreCorrupt(f"article {article_id!r}: {len(ids) - len(sentences)} committed sentence(s) missing")

    def _mget_sentences(self, ids: list[str], *, with_vectors: bool) -> list[Response]:
        if not ids:
            return []
        excludes = [] if with_vectors else ["vector"]
        with translated_errors():
            resp = self._es.mget(index=self._names.sentences, ids=ids, source_excludes=excludes or None)
        return found_sources(resp.body)

    def search(self, request: SearchRequest) -> SearchPage:
        with translated_errors():
            resp = self._es.search(index=search_index(self._names, request.level),
                                   body=build_search_body(request)).body
        if request.level == "article":
            return parse_search_response(resp, "article")
        known = self._entity_names(facet_entity_keys(resp))
        return parse_search_response(resp, "sentence", self._committed(hit_article_ids(resp)), known)

    def _entity_names(self, keys: Sequence[str]) -> dict[str, EntityCount]:
        """Display name and label of each entity key (from the articles index)."""
        if not keys:
            return {}
        with translated_errors():
            resp = self._es.search(index=self._names.articles, body=build_entities_body(limit=len(keys), keys=keys))
        return {e.key: e for e in parse_entities_response(resp.body)}

    def _committed(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Article id -> committed content hash (realtime get, so never stale)."""
        return self.content_hashes(article_ids)

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        if limit <= 0:
            return []
        with translated_errors():
            resp = self._es.search(index=self._names.articles, body=build_entities_body(prefix, label, limit))
        return parse_entities_response(resp.body)

    def sources(self) -> list[SourceCount]:
        with translated_errors():
            resp = self._es.search(index=self._names.articles, body=build_sources_body())
        return parse_sources_response(resp.body)

    def count_articles(self) -> int:
        with translated_errors():
            return int(self._es.count(index=self._names.articles).body["count"])

    # --- claim lookup candidates -------------------------------------------

    def lexical_candidates(self, query: ParsedQuery, filters: Filters, limit: int,
                           restrict_to: Sequence[SentenceRef] | None = None) -> list[Candidate]:
        if query.is_empty or limit <= 0 or (restrict_to is not None and not restrict_to):
            return []
        with translated_errors():
            resp = self._es.search(index=self._names.sentences,
                                   body=build_lexical_body(query, filters, limit, restrict_to)).body
        return parse_candidates(resp, self._committed(hit_article_ids(resp)))

    def vector_candidates(self, vectors: np.ndarray, filters: Filters, limit: int) -> list[list[Candidate]]:
        vectors = query_vectors(vectors)
        if len(vectors) == 0:
            return []
        if limit <= 0:
            return [[] for _ in vectors]
        with translated_errors():
            resp = self._es.msearch(index=self._names.sentences,
                                    searches=build_knn_searches(vectors, filters, limit)).body
        ids = list(dict.fromkeys(a for item in msearch_responses(resp) for a in hit_article_ids(item)))
        return parse_msearch_candidates(resp, self._committed(ids))

    def get_sentences(self, refs: Sequence[SentenceRef]) -> list[StoredSentence]:
        if not refs:
            return []
        facts = self._article_facts(list(dict.fromkeys(r.article_id for r in refs)))
        ids = [sentence_id(r.article_id, facts[r.article_id][0], r.position)
               for r in refs if r.article_id in facts]
        return [parse_stored_sentence(src, facts[src["article_id"]][1])
                for src in self._mget_sentences(ids, with_vectors=True)]

    def _article_facts(self, article_ids: Sequence[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Article id -> (committed content hash, keys of its entities), one mget."""
        with translated_errors():
            resp = self._es.mget(index=self._names.articles, ids=[article_doc_id(i) for i in article_ids],
                                 source_includes=["article_id", "content_hash", "entities.key"])
        return parse_article_facts(resp.body)
