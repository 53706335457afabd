"""Elasticsearch adapter of the Store protocol (production, scale-out).

Layout: two indices per store, each a versioned concrete index behind an
alias (``{prefix}-articles`` -> ``{prefix}-articles-v1-<stamp>``), with the
explicit mappings and analysis settings of ``claimlookup/store/es-mapping.json``:

* articles: one document per article (title, body, facts, ``content_hash``,
  the sentence positions, and one nested entry per distinct entity key);
* sentences: one document per sentence, title = position 0, with its
  entities, quantities, stance, vector and the article facts that filters
  and hits need (denormalised).

Consistency (details in ``docs/store-elastic.md``): Elasticsearch has no
multi-document transactions, so the article document is the commit marker.
Sentence documents carry their article's content hash (the *generation*)
in their ids; a write indexes the new generation, then the article document,
then deletes the other generations. Every read of sentences is filtered to
the generation the article document names, so readers see each article
fully old or fully new; a failure leaves only invisible leftovers, which
the failed batch deletes by id where that is safe and the two-phase sweep
(``ElasticStore.sweep_leftovers``, run by every indexer run) removes
otherwise.

The package is two layers: pure functions that build request bodies from
domain objects and parse response bodies into domain objects, and the thin
``ElasticStore`` class that sends them and translates driver errors into
``StoreError``s. One module per concern:

================  ==========================================================
``adapter``       ``ElasticStore``: the client, the write phases, rebuilds
``connection``    ``ElasticConfig``: credentials, TLS, timeouts, shards and
                  replicas from the settings; the server version
``indices``       index and alias names, the mapping, the alias swap
``documents``     document ids, article and sentence documents, bulk
                  actions, write batches
``queries``       every request body for search, candidates, the catalogue
                  (all of the query DSL, and nowhere else)
``responses``     response bodies -> ``claimlookup.model`` dataclasses
``errors``        driver errors and failed items -> ``StoreError``s
================  ==========================================================

Helpers shared with the SQLite adapter (listing snippets, dates, request
validation, the new / updated / unchanged decision) are in
``claimlookup.store.common``. Every public name the single ``elastic.py``
module had is re-exported here.
"""

from claimlookup.store.common import (
    LEAD_CHARS,
    lead_snippet,
    parse_date,
    plan_writes,
    write_outcome,
)
from claimlookup.store.elastic.adapter import (
    BULK_CHUNK,
    MERGE_TIMEOUT,
    READ_ATTEMPTS,
    SWEEP_GRACE_WRITE_TIMEOUTS,
    ElasticStore,
)
from claimlookup.store.elastic.connection import (
    EXCLUDE_SOURCE_VECTORS,
    MAX_RETRIES,
    READ_TIMEOUT,
    VECTOR_INDEX_TYPES,
    WRITE_TIMEOUT,
    ElasticConfig,
    excludes_source_vectors,
    index_settings,
    live_settings,
    parse_version,
)
from claimlookup.store.elastic.documents import (
    GENERATION_CHARS,
    MAX_ID_BYTES,
    SWEEP_DELETE_PAIRS,
    SWEEP_PAGE,
    WRITE_BATCH,
    article_action,
    article_doc_id,
    article_document,
    batches,
    build_cleanup_body,
    build_delete_sentences_body,
    build_generations_body,
    build_generations_cleanup_body,
    entity_summary,
    generation,
    sentence_actions,
    sentence_document,
    sentence_id,
    sentence_ref_key,
    stale_sentence_actions,
    uncommitted_sentence_actions,
)
from claimlookup.store.elastic.errors import (
    StoreAccessDenied,
    StoreNotSetUp,
    StorePartialResults,
    bulk_error,
    check_complete,
    check_delete_by_query,
    item_error,
    translate_api_error,
    translated_errors,
)
from claimlookup.store.elastic.indices import (
    KINDS,
    MAPPING_PATH,
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
    ARTICLE_HIT_FIELDS,
    CANDIDATE_FIELDS,
    FACET_SIZE,
    KNN_OVERSAMPLING,
    MARK_CLOSE,
    MARK_OPEN,
    MAX_KNN_CANDIDATES,
    MAX_RESULT_WINDOW,
    MAX_SOURCES,
    MIN_KNN_CANDIDATES,
    SCORE_DESC,
    SENTENCE_HIT_FIELDS,
    SNIPPET_CHARS,
    build_candidate_searches,
    build_entities_body,
    build_entity_spellings_body,
    build_knn_body,
    build_knn_searches,
    build_lexical_body,
    build_query,
    build_search_body,
    build_sources_body,
    facet_aggs,
    filter_clauses,
    group_clause,
    highlight_clause,
    key_prefix_pattern,
    knn_candidates,
    page_window,
    search_index,
    sort_clause,
    term_clause,
)
from claimlookup.store.elastic.responses import (
    CommittedArticle,
    GenerationsPage,
    article_snippet,
    facet_entity_keys,
    found_sources,
    hit_article_ids,
    is_committed,
    knn_cosine,
    msearch_responses,
    parse_article,
    parse_article_facts,
    parse_candidate_searches,
    parse_candidates,
    parse_committed,
    parse_content_hashes,
    parse_deleted,
    parse_entities_response,
    parse_entity_facet,
    parse_entity_spellings,
    parse_facets,
    parse_generations_page,
    parse_mention,
    parse_msearch_candidates,
    parse_quantity,
    parse_search_hit,
    parse_search_response,
    parse_sentence,
    parse_sources_response,
    parse_stored_sentence,
    sources_by_article,
    uncommitted_generations,
)

__all__ = [
    "ARTICLE_HIT_FIELDS",
    "BULK_CHUNK",
    "Body",
    "CANDIDATE_FIELDS",
    "CommittedArticle",
    "EXCLUDE_SOURCE_VECTORS",
    "ElasticConfig",
    "ElasticStore",
    "FACET_SIZE",
    "GENERATION_CHARS",
    "GenerationsPage",
    "IndexNames",
    "KINDS",
    "KNN_OVERSAMPLING",
    "LEAD_CHARS",
    "MAPPING_PATH",
    "MARK_CLOSE",
    "MARK_OPEN",
    "MAX_ID_BYTES",
    "MAX_KNN_CANDIDATES",
    "MAX_RESULT_WINDOW",
    "MAX_RETRIES",
    "MAX_SOURCES",
    "MERGE_TIMEOUT",
    "MIN_KNN_CANDIDATES",
    "READ_ATTEMPTS",
    "READ_TIMEOUT",
    "Response",
    "SCORE_DESC",
    "SENTENCE_HIT_FIELDS",
    "SNIPPET_CHARS",
    "SWEEP_DELETE_PAIRS",
    "SWEEP_GRACE_WRITE_TIMEOUTS",
    "SWEEP_PAGE",
    "StoreAccessDenied",
    "StoreNotSetUp",
    "StorePartialResults",
    "VECTOR_INDEX_TYPES",
    "WRITE_BATCH",
    "WRITE_TIMEOUT",
    "alias_names",
    "alias_swap_actions",
    "article_action",
    "article_doc_id",
    "article_document",
    "article_snippet",
    "batches",
    "build_candidate_searches",
    "build_cleanup_body",
    "build_delete_sentences_body",
    "build_entities_body",
    "build_entity_spellings_body",
    "build_generations_body",
    "build_generations_cleanup_body",
    "build_knn_body",
    "build_knn_searches",
    "build_lexical_body",
    "build_query",
    "build_search_body",
    "build_sources_body",
    "bulk_error",
    "check_complete",
    "check_delete_by_query",
    "entity_summary",
    "excludes_source_vectors",
    "facet_aggs",
    "facet_entity_keys",
    "filter_clauses",
    "found_sources",
    "generation",
    "group_clause",
    "highlight_clause",
    "hit_article_ids",
    "index_body",
    "index_settings",
    "is_committed",
    "item_error",
    "key_prefix_pattern",
    "knn_candidates",
    "knn_cosine",
    "lead_snippet",
    "live_settings",
    "load_mapping",
    "msearch_responses",
    "page_window",
    "parse_alias_indices",
    "parse_article",
    "parse_article_facts",
    "parse_candidate_searches",
    "parse_candidates",
    "parse_committed",
    "parse_content_hashes",
    "parse_date",
    "parse_deleted",
    "parse_entities_response",
    "parse_entity_spellings",
    "parse_entity_facet",
    "parse_facets",
    "parse_generations_page",
    "parse_mention",
    "parse_msearch_candidates",
    "parse_quantity",
    "parse_search_hit",
    "parse_search_response",
    "parse_sentence",
    "parse_sources_response",
    "parse_stored_sentence",
    "parse_version",
    "plan_writes",
    "search_index",
    "sentence_actions",
    "sentence_document",
    "sentence_id",
    "sentence_ref_key",
    "sort_clause",
    "sources_by_article",
    "stale_sentence_actions",
    "term_clause",
    "timestamp",
    "translate_api_error",
    "translated_errors",
    "uncommitted_generations",
    "uncommitted_sentence_actions",
    "versioned_names",
    "write_outcome",
]
