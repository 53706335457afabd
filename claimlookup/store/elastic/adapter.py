"""``ElasticStore``: the ``Store`` protocol on Elasticsearch 8 (and 9 through
REST compatibility). A thin class: it sends the bodies ``queries`` and
``documents`` build, hands the answers to ``responses``, and turns driver
errors into ``StoreError``s (``errors``). It owns the client, the timeouts
and the order of a write's phases (sentences, commit marker, cleanup,
refresh); ``docs/store-elastic.md`` explains why that order keeps every
article fully old or fully new to readers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from time import sleep

import numpy as np
from elasticsearch import (
    ApiError,
    AuthorizationException,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)

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
from claimlookup.settings import Settings
from claimlookup.store.base import (
    SPELLINGS_PER_ENTITY,
    FoundCandidates,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
)
from claimlookup.store.common import plan_writes, query_vectors, write_outcome
from claimlookup.store.elastic.connection import (
    EXCLUDE_SOURCE_VECTORS,
    ElasticConfig,
    excludes_source_vectors,
    index_settings,
    live_settings,
    parse_version,
)
from claimlookup.store.elastic.documents import (
    SWEEP_DELETE_PAIRS,
    SWEEP_PAGE,
    WRITE_BATCH,
    article_action,
    article_doc_id,
    batches,
    build_cleanup_body,
    build_delete_sentences_body,
    build_generations_body,
    build_generations_cleanup_body,
    sentence_actions,
    sentence_id,
    stale_sentence_actions,
    uncommitted_sentence_actions,
)
from claimlookup.store.elastic.errors import (
    bulk_error,
    check_complete,
    check_delete_by_query,
    error_type,
    translated_errors,
)
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
    build_candidate_searches,
    build_entities_body,
    build_entity_spellings_body,
    build_knn_searches,
    build_lexical_body,
    build_search_body,
    build_sources_body,
    search_index,
)
from claimlookup.store.elastic.responses import (
    CommittedArticle,
    facet_entity_keys,
    found_sources,
    hit_article_ids,
    msearch_responses,
    parse_article,
    parse_article_facts,
    parse_candidate_searches,
    parse_candidates,
    parse_committed,
    parse_content_hashes,
    parse_deleted,
    parse_entities_response,
    parse_entity_spellings,
    parse_generations_page,
    parse_msearch_candidates,
    parse_search_response,
    parse_sources_response,
    parse_stored_sentence,
    sources_by_article,
    uncommitted_generations,
)

logger = logging.getLogger(__name__)

MERGE_TIMEOUT = 3600.0  # a rebuild's force-merge to one segment can take minutes on a large index
READ_ATTEMPTS = 3  # get_article re-reads when a concurrent update moved the generation
BULK_CHUNK = 500  # documents per bulk request
CARRY_MGET = 1000  # sentence ids per mget when a rebuild carries posted articles
EXPENSIVE_QUERIES_OFF = "allow_expensive_queries"  # in the 400 of a cluster that refuses prefix queries
# The sweep's grace, in write timeouts (300 s at the default 60 s). A batch's
# sentences can be seen by the sweep's first phase only once their bulk chunk
# is written; from there to its commit the batch sends its remaining sentence
# chunks and then one chunk of article documents (100 articles of up to ~20
# sentences: at most 4 chunks of 500, then the commit: 5 requests), and each
# request answers within the write timeout or fails the batch, which then
# commits nothing. A write that has not committed after that long is taken
# for crashed; docs/store-elastic.md ("What a crash leaves") has the races.
SWEEP_GRACE_WRITE_TIMEOUTS = 5


class ElasticStore:
    """The Store protocol on Elasticsearch 8.19 and 9.

    ``url`` is the cluster (``https://localhost:9200``); ``index_prefix`` names
    the aliases; ``config`` holds credentials, TLS, timeouts, shards and
    replicas (default: the ``es_*`` settings of the environment, checked
    here: ValueError for a contradictory one). Constructing it never touches
    the network: the client is created on first use and reused. ``client``,
    ``indices`` and ``loading`` are for tests and for the staging store of
    ``rebuild()`` (concrete indices, no aliases, no refresh per batch).
    """

    def __init__(self, url: str, index_prefix: str = "claimlookup", *, config: ElasticConfig | None = None,
                 client: Elasticsearch | None = None, indices: IndexNames | None = None,
                 loading: bool = False) -> None:
        if not index_prefix or index_prefix != index_prefix.lower() or not index_prefix[0].isalnum() \
                or any(ch in index_prefix for ch in ' "*\\<|,>/?#:'):
            raise ValueError(f"invalid index prefix {index_prefix!r}: lower case, no spaces or \\/*?\"<>|,#:")
        self._config = config if config is not None else ElasticConfig.from_settings(Settings.from_env())
        self._config.check(url)
        self._url = url
        self._prefix = index_prefix
        self._names = indices or alias_names(index_prefix)
        self._loading = loading
        self._client = client
        self._owns_client = client is None
        self._lock = threading.Lock()
        self._cheap_entities = False  # set once the cluster refused a prefix query as expensive

    def __repr__(self) -> str:
        return f"ElasticStore({self._url!r}, {self._prefix!r})"

    @property
    def indices(self) -> IndexNames:
        return self._names

    @property
    def config(self) -> ElasticConfig:
        return self._config

    @property
    def sweep_grace(self) -> float:
        """Seconds between the sweep's two phases: ``SWEEP_GRACE_WRITE_TIMEOUTS``
        write timeouts, long enough for a write in flight to commit."""
        return SWEEP_GRACE_WRITE_TIMEOUTS * self._config.write_timeout

    @property
    def _es(self) -> Elasticsearch:
        """The client, created on first use; reads time out after the request timeout."""
        with self._lock:
            if self._client is None:
                self._client = Elasticsearch(**self._config.client_options(self._url))
            return self._client

    def _writer(self, timeout: float | None = None) -> Elasticsearch:
        """The same client (same connection pool) with the longer write timeout."""
        return self._es.options(request_timeout=timeout or self._config.write_timeout)

    # --- lifecycle -----------------------------------------------------------

    def setup(self) -> None:
        mapping = load_mapping()
        with translated_errors():
            for kind in KINDS:
                name = getattr(self._names, kind)
                if not self._es.indices.exists(index=name):
                    concrete = getattr(versioned_names(self._prefix, mapping["version"], "initial"), kind)
                    self._create_index(concrete, kind, alias=name)
                elif kind == "articles":
                    # Indices made before the "posted" field: adding a field is allowed in place.
                    self._writer().indices.put_mapping(index=name, properties={"posted": {"type": "boolean"}})
                elif kind == "sentences":
                    # ... and before quantities had a scope (a sentence written then reads as "event").
                    self._writer().indices.put_mapping(
                        index=name, properties={"quantities": {"properties": {"scope": {"type": "keyword"}}}})

    def _create_index(self, name: str, kind: str, alias: str | None = None, loading: bool = False) -> None:
        """Create one index; on Elasticsearch 9.2+ with vectors kept in ``_source``.
        When the version cannot be read (a key without ``monitor``), try with
        that setting and without it if the server does not know it (before 9.2)."""
        keep_vectors = excludes_source_vectors(self._server_version())
        body = index_body(load_mapping(), kind, alias=alias, vector_index_type=self._config.vector_index_type,
                          index=index_settings(self._config, loading=loading,
                                               keep_vectors_setting=keep_vectors is not False))
        try:
            try:
                self._writer().indices.create(index=name, **body)
            except BadRequestError as e:
                if keep_vectors is not None or EXCLUDE_SOURCE_VECTORS not in str(e.body):
                    raise
                body["settings"]["index"].pop("mapping.exclude_source_vectors")
                self._writer().indices.create(index=name, **body)
        except BadRequestError as e:
            if error_type(e) != "resource_already_exists_exception":  # a concurrent setup won
                raise

    def _server_version(self) -> tuple[int, int] | None:
        """(major, minor) of the cluster, None if this key may not read it (403)."""
        try:
            return parse_version(self._es.info().body)
        except AuthorizationException:
            return None

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()

    def ping(self) -> None:
        """Cluster health (red fails); for a key without the ``monitor``
        privilege, a count on the articles alias, which ``read`` allows."""
        with translated_errors():
            try:
                health = self._es.cluster.health().body
            except AuthorizationException:
                check_complete(self._es.count(index=self._names.articles).body)
                return
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

    def _committed_articles(self, ids: Sequence[str]) -> dict[str, CommittedArticle]:
        """Article id -> committed content hash and sentence positions (one real-time mget)."""
        with translated_errors():
            resp = self._es.mget(index=self._names.articles, ids=[article_doc_id(i) for i in dict.fromkeys(ids)],
                                 source_includes=["article_id", "content_hash", "positions"])
        return parse_committed(resp.body)

    def write_articles(self, articles: Iterable[Article], *, posted: bool = False) -> Iterator[WriteOutcome]:
        # ``posted``: written through the API; marked on the article document
        # and carried into a rebuild's new indices (``rebuild``).
        for batch in batches(articles, WRITE_BATCH):
            yield from self._write_batch(batch, posted)

    def _write_batch(self, batch: list[Article], posted: bool = False) -> list[WriteOutcome]:
        """Sentences, then the article documents (the commit), then the old
        generation's sentences deleted by id, then (live indices only) a refresh.
        If the sentences or the commit fail, the batch's uncommitted sentences
        are deleted by id before the error is raised (``_remove_unfinished``)."""
        committed = self._committed_articles([a.id for a in batch])
        statuses = plan_writes(batch, {i: c.content_hash for i, c in committed.items()})
        changed = [a for a, s in zip(batch, statuses, strict=True) if s is not WriteStatus.UNCHANGED]
        if changed:
            step = "sentences"
            try:
                with translated_errors():
                    self._bulk(action for a in changed for action in sentence_actions(a, self._names.sentences))
                    step = "commit"
                    self._bulk(article_action(a, self._names.articles, posted) for a in changed)
                    step = "cleanup"
                    self._bulk(action for a in changed if a.id in committed
                               for action in stale_sentence_actions(a, committed[a.id].content_hash,
                                                                    committed[a.id].positions,
                                                                    self._names.sentences))
            except Exception as e:
                if not self._loading and _commit_settled(step, e):  # a failed rebuild drops its indices anyway
                    self._remove_unfinished(changed)
                raise
            if not self._loading:  # a rebuild refreshes once, before its alias swap
                with translated_errors():
                    self._writer().indices.refresh(index=self._names.all())
        return [write_outcome(a, s) for a, s in zip(batch, statuses, strict=True)]

    def _remove_unfinished(self, articles: list[Article]) -> None:
        """After a failed write: delete by id the new generation's sentences of
        each article whose document does not name that generation (re-read
        now). Best effort: its own failure is logged, never raised, so the
        caller re-raises the error that caused it; the sweep removes what is
        left (``sweep_leftovers``)."""
        try:
            committed = self.content_hashes([a.id for a in articles])
            with translated_errors():
                self._bulk(uncommitted_sentence_actions(articles, committed, self._names.sentences))
        except Exception as e:
            logger.warning("could not delete the sentences of a failed write of %d article(s), left for the "
                           "leftover sweep (claimlookup-index --sweep): %s", len(articles), e)

    def _bulk(self, actions: Iterable[Body]) -> None:
        """Send actions in chunks; raise after the last chunk if any item failed.
        Writes through the aliases require them to be aliases (a missing one
        fails instead of auto-creating a concrete index under its name); a
        delete of a document already gone is fine."""
        failures = [item for ok, item in helpers.streaming_bulk(
            self._writer(), actions, chunk_size=BULK_CHUNK, raise_on_error=False, max_retries=2,
            initial_backoff=1, max_backoff=8, require_alias=not self._loading)
            if not ok and not _already_deleted(item)]
        if failures:
            raise bulk_error(failures)

    def _delete_sentences(self, body: Body) -> None:
        resp = self._writer().delete_by_query(index=self._names.sentences, conflicts="proceed", **body)
        check_delete_by_query(resp.body)

    # --- leftovers of crashed writes (maintenance, not part of the Store protocol) ---

    def leftover_generations(self) -> dict[str, set[str]]:
        """The sweep's first phase: article id -> the ``article_hash`` values
        of its sentences that its article document does not name (every one,
        for an article without a document). Pages of ``SWEEP_PAGE`` distinct
        (article, hash) pairs of a composite aggregation, and one real-time
        mget of the articles per page; the pages may take the write timeout
        (maintenance on a large index, not a reader's query). Includes the
        generation of a write in flight: ``remove_generations`` re-checks
        after a grace."""
        found: dict[str, set[str]] = {}
        after: Mapping[str, object] | None = None
        while True:
            with translated_errors():
                resp = self._writer().search(index=self._names.sentences, body=build_generations_body(after))
            page = parse_generations_page(resp.body, SWEEP_PAGE)
            if page.pairs:
                committed = self.content_hashes([article_id for article_id, _ in page.pairs])
                for article_id, hashes in uncommitted_generations(page.pairs, committed).items():
                    found.setdefault(article_id, set()).update(hashes)
            if page.after is None:
                return found
            after = page.after

    def remove_generations(self, found: Mapping[str, Iterable[str]]) -> int:
        """The sweep's second phase: re-read the committed hashes and delete
        the sentences of each (article, hash) of ``found`` that is still not
        committed (a write in flight during the grace has committed by now and
        is kept). Per ``SWEEP_DELETE_PAIRS`` pairs, one real-time mget right
        before one delete-by-query with ``conflicts=proceed`` (a sentence
        written again since the query's snapshot is left alone). Returns the
        number of sentences deleted."""
        pairs = [(article_id, content_hash) for article_id, hashes in found.items()
                 for content_hash in sorted(hashes)]
        deleted = 0
        for begin in range(0, len(pairs), SWEEP_DELETE_PAIRS):
            chunk = pairs[begin:begin + SWEEP_DELETE_PAIRS]
            committed = self.content_hashes([article_id for article_id, _ in chunk])
            stale = [(article_id, content_hash) for article_id, content_hash in chunk
                     if committed.get(article_id) != content_hash]
            if stale:
                with translated_errors():
                    resp = self._writer().delete_by_query(index=self._names.sentences, conflicts="proceed",
                                                          **build_generations_cleanup_body(stale))
                deleted += parse_deleted(resp.body)
        return deleted

    def sweep_leftovers(self, grace: float | None = None) -> int:
        """Remove the sentences of writes that never committed: find the
        uncommitted generations, wait ``grace`` seconds (default
        ``sweep_grace``) so a write in flight can commit, then delete those
        still uncommitted. Nothing found: no wait. Safe while writers run
        (docs/store-elastic.md, "What a crash leaves"). Returns the number of
        sentences deleted."""
        found = self.leftover_generations()
        if not found:
            return 0
        sleep(self.sweep_grace if grace is None else grace)
        return self.remove_generations(found)

    def remove_leftovers(self, article_ids: Sequence[str]) -> None:
        """Delete sentences of these articles that belong to no committed
        generation (leftovers of crashed writes, which readers never show but
        which take kNN slots). Unlike the sweep it also deletes a write in
        flight: only for articles no writer is writing."""
        if not article_ids:
            return
        committed = self.content_hashes(article_ids)
        generations = {i: committed.get(i, "") for i in dict.fromkeys(article_ids)}
        with translated_errors():
            self._delete_sentences(build_cleanup_body(generations))

    def delete_article(self, article_id: str) -> None:
        with translated_errors(article_id):
            self._writer().delete(index=self._names.articles, id=article_doc_id(article_id))
        with translated_errors():
            self._delete_sentences(build_delete_sentences_body(article_id))
            self._writer().indices.refresh(index=self._names.all())

    @contextmanager
    def rebuild(self) -> Iterator[ElasticStore]:
        """New indices loaded with refresh off and no replicas; then refreshed,
        force-merged to one segment, given their replicas and refresh back,
        and swapped in with one alias call."""
        new = versioned_names(self._prefix, load_mapping()["version"], timestamp())
        try:
            with translated_errors():
                for kind in KINDS:
                    self._create_index(getattr(new, kind), kind, loading=True)
            yield ElasticStore(self._url, self._prefix, config=self._config, client=self._es, indices=new,
                               loading=True)
            with translated_errors():
                self._finish_loading(new)
                old = [name for alias in self._names.all() for name in self._alias_indices(alias)]
                # From here to the swap, writes to the live indices are refused
                # (StoreRebuilding: 503 + Retry-After), so none lands after the
                # carry and is dropped with the old indices.
                self._block_writes(old, True)
                try:
                    if self._carry_posted(new):
                        self._writer().indices.refresh(index=new.all())
                    self._swap_aliases(new)
                except BaseException:
                    self._block_writes(old, False)
                    raise
        except BaseException:
            self._discard(new)
            raise

    def _block_writes(self, indices: list[str], blocked: bool) -> None:
        if indices:
            self._writer().indices.put_settings(index=",".join(indices), settings={"index.blocks.write": blocked})

    def _carry_posted(self, new: IndexNames) -> int:
        """Copy the articles written through the API (``posted``) from the live
        indices into ``new`` with their committed sentences, unless the
        rebuild's input wrote the same id (the input wins): no acknowledged
        write is lost to a rebuild. Runs right before the alias swap; a write
        Runs with the old indices blocked for writes (``rebuild``).
        Returns the number of articles carried."""
        if not self._alias_indices(self._names.articles):
            return 0
        posted = {hit["_id"]: hit["_source"] for hit in helpers.scan(
            self._es, index=self._names.articles, query={"query": {"term": {"posted": True}}})}
        if not posted:
            return 0
        present = self._es.mget(index=new.articles, ids=list(posted), source=False).body["docs"]
        carried = {doc["_id"]: posted[doc["_id"]] for doc in present if not doc.get("found")}
        sentence_ids = [sentence_id(src["article_id"], src["content_hash"], p)
                        for src in carried.values() for p in src["positions"]]
        sentences = [d for begin in range(0, len(sentence_ids), CARRY_MGET)
                     for d in self._es.mget(index=self._names.sentences,
                                            ids=sentence_ids[begin:begin + CARRY_MGET]).body["docs"]
                     if d.get("found")]
        loader = ElasticStore(self._url, self._prefix, config=self._config, client=self._es, indices=new,
                              loading=True)
        loader._bulk({"_op_type": "index", "_index": new.sentences, "_id": d["_id"], "_source": d["_source"]}
                     for d in sentences)
        loader._bulk({"_op_type": "index", "_index": new.articles, "_id": doc_id, "_source": src}
                     for doc_id, src in carried.items())
        return len(carried)

    def _finish_loading(self, new: IndexNames) -> None:
        self._writer().indices.refresh(index=new.all())
        self._writer(MERGE_TIMEOUT).indices.forcemerge(index=new.all(), max_num_segments=1)
        self._writer().indices.put_settings(index=new.all(), settings=live_settings(self._config))

    def _swap_aliases(self, new: IndexNames) -> None:
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

    def get_articles(self, article_ids: Sequence[str]) -> list[Article]:
        """``get_article`` of several articles in two requests (the optional
        ``BatchedArticles``): one real-time mget of their documents, one of
        the sentences of the generations they name. Articles whose generation
        moved between the two reads are read again, as in ``get_article``.
        Ids with no article are left out."""
        wanted = list(dict.fromkeys(article_ids))
        found: dict[str, Article] = {}
        missing: dict[str, int] = {}  # article id -> committed sentences not found at the last read
        for _ in range(READ_ATTEMPTS):
            if not wanted:
                break
            with translated_errors():
                resp = self._es.mget(index=self._names.articles, ids=[article_doc_id(i) for i in wanted])
            documents = {src["article_id"]: src for src in found_sources(resp.body)}
            ids = {a: [sentence_id(a, src["content_hash"], p) for p in src["positions"]]
                   for a, src in documents.items()}
            sentences = sources_by_article(self._mget_sentences(
                [i for generation_ids in ids.values() for i in generation_ids], with_vectors=False))
            missing = {a: len(ids[a]) - len(sentences.get(a, ())) for a in documents}
            found.update((a, parse_article(documents[a], sentences.get(a, []))) for a, n in missing.items() if not n)
            wanted = [a for a, n in missing.items() if n]
        if wanted:
            raise StoreCorrupt(f"article {wanted[0]!r}: {missing[wanted[0]]} committed sentence(s) missing")
        return [found[a] for a in dict.fromkeys(article_ids) if a in found]

    def _mget_sentences(self, ids: list[str], *, with_vectors: bool) -> list[Response]:
        if not ids:
            return []
        excludes = [] if with_vectors else ["vector"]
        with translated_errors():
            resp = self._es.mget(index=self._names.sentences, ids=ids, source_excludes=excludes or None)
        return found_sources(resp.body)

    def _search(self, index: str, body: Body) -> Response:
        """One search; driver errors translated, partial answers refused."""
        with translated_errors():
            resp = self._es.search(index=index, body=body).body
        check_complete(resp)
        return resp

    def search(self, request: SearchRequest) -> SearchPage:
        resp = self._search(search_index(self._names, request.level), build_search_body(request))
        if request.level == "article":
            return parse_search_response(resp, "article")
        known = self._entity_names(facet_entity_keys(resp))
        return parse_search_response(resp, "sentence", self._committed(hit_article_ids(resp)), known)

    def _entity_names(self, keys: Sequence[str]) -> dict[str, EntityCount]:
        """Display name and label of each entity key (from the articles index)."""
        if not keys:
            return {}
        resp = self._search(self._names.articles, build_entities_body(limit=len(keys), keys=keys))
        return {e.key: e for e in parse_entities_response(resp)}

    def _committed(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Article id -> committed content hash (realtime get, so never stale)."""
        return self.content_hashes(article_ids)

    def entities(self, prefix: str = "", label: str | None = None, limit: int = 20) -> list[EntityCount]:
        if limit <= 0:
            return []
        if prefix and not self._cheap_entities:
            try:
                return parse_entities_response(self._search(self._names.articles,
                                                            build_entities_body(prefix, label, limit)))
            except StoreError as e:
                if not _expensive_queries_off(e):
                    raise
                self._cheap_entities = True  # this cluster refuses prefix queries: ask it the cheap way from now on
        resp = self._search(self._names.articles, build_entities_body(prefix, label, limit, cheap=bool(prefix)))
        return parse_entities_response(resp)

    def entity_spellings(self, keys: Sequence[str], limit: int = SPELLINGS_PER_ENTITY) -> dict[str, list[str]]:
        if not keys or limit <= 0:
            return {}
        return parse_entity_spellings(self._search(self._names.articles, build_entity_spellings_body(keys, limit)),
                                      limit)

    def sources(self) -> list[SourceCount]:
        return parse_sources_response(self._search(self._names.articles, build_sources_body()))

    def count_articles(self) -> int:
        with translated_errors():
            resp = self._es.count(index=self._names.articles).body
        check_complete(resp)
        return int(resp["count"])

    # --- claim lookup candidates -------------------------------------------

    def lexical_candidates(self, query: ParsedQuery, filters: Filters, limit: int,
                           restrict_to: Sequence[SentenceRef] | None = None) -> list[Candidate]:
        if query.is_empty or limit <= 0 or (restrict_to is not None and not restrict_to):
            return []
        resp = self._search(self._names.sentences, build_lexical_body(query, filters, limit, restrict_to))
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

    def find_candidates(self, queries: Sequence[ParsedQuery], vectors: np.ndarray, filters: Filters, *,
                        lexical_limit: int, vector_limit: int) -> FoundCandidates:
        """``lexical_candidates`` of every query and ``vector_candidates`` of
        every row (the optional ``BatchedCandidates``) in two requests: one
        ``_msearch`` with the kNN search of each row and the BM25 search of
        each query, then one real-time mget of the generations that the
        articles of all hits commit."""
        vectors = query_vectors(vectors)
        knn = vectors if vector_limit > 0 else vectors[:0]
        asked = [i for i, q in enumerate(queries) if not q.is_empty] if lexical_limit > 0 else []
        lexical: list[list[Candidate]] = [[] for _ in queries]
        if not len(knn) and not asked:
            return FoundCandidates(lexical, [[] for _ in vectors])
        searches = build_candidate_searches([queries[i] for i in asked], knn, filters, lexical_limit, vector_limit)
        with translated_errors():
            resp = self._es.msearch(index=self._names.sentences, searches=searches).body
        ids = list(dict.fromkeys(a for item in msearch_responses(resp) for a in hit_article_ids(item)))
        by_vector, by_query = parse_candidate_searches(resp, self._committed(ids), len(knn))
        for i, candidates in zip(asked, by_query, strict=True):
            lexical[i] = candidates
        return FoundCandidates(lexical, by_vector if len(knn) else [[] for _ in vectors])

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


def _commit_settled(step: str, error: Exception) -> bool:
    """Whether a write that failed at ``step`` can no longer commit later: it
    failed before the commit was sent, or the commit's bulk response came
    back with rejected items (``bulk_error``, raised without a driver cause).
    A commit that failed in the driver (a timeout, a lost connection, a 5xx
    of a proxy) may still be applied by the cluster: its sentences are left
    for the sweep, which waits a grace first. After the commit, nothing is
    left uncommitted."""
    if step == "sentences":
        return True
    return step == "commit" and isinstance(error, StoreError) and error.__cause__ is None


def _already_deleted(item: Response) -> bool:
    """A bulk delete of a document that is not there: the goal is reached."""
    return item.get("delete", {}).get("result") == "not_found" and "error" not in item.get("delete", {})


def _expensive_queries_off(error: StoreError) -> bool:
    """Whether the cluster refused a query because ``search.allow_expensive_queries`` is false."""
    cause = error.__cause__
    return isinstance(cause, BadRequestError) and EXPENSIVE_QUERIES_OFF in str(cause.body)
