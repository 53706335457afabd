"""The embedded store: one SQLite file, FTS5 for BM25 and highlights, sentence
vectors as BLOBs searched in memory with numpy. ``SQLiteStore`` is the
adapter; this package's modules each hold one concern:

========================  ===================================================
``adapter``               ``SQLiteStore``: per-process state, lifecycle,
                          rebuild; runs the SQL below in its transactions
``connection``            the pool (fork, replaced file), transactions,
                          schema version, the ``meta`` token, error mapping
``writes``                one transaction per article, the inserts
``fts``                   user text -> FTS5 MATCH, highlight markers
``search``                the search read model: pages, snippets, facets,
                          entities, sources
``candidates``            claim-lookup candidates: BM25 over sentences, the
                          vector matrix kept in step, filter masks
``neighbours``            the approximate vector index (from
                          ``ann.ANN_MIN_VECTORS`` vectors): built from the
                          table, searched with exact re-scoring and the tail
``read_cache``            the in-memory cache behind ``get_sentences``
``rows``                  filters as SQL, JSON-bound lists, rows -> domain
========================  ===================================================

Helpers shared with the Elasticsearch adapter (listing snippets, dates,
request validation, the new / updated / unchanged decision) are in
``claimlookup.store.common``; the vector matrix itself in
``claimlookup.store.vectors``; the schema in ``claimlookup/store/schema.sql``.

Design (details and measurements in ``docs/store-sqlite.md``):

* WAL mode, ``synchronous=NORMAL``: a commit survives a process kill; a power
  cut may lose the last few commits but never corrupts the file.
* One ``BEGIN IMMEDIATE`` transaction per article: a kill at any moment leaves
  every article fully old or fully new.
* Connections come from a small pool (any thread may borrow one); readers in
  other processes each have their own. A forked child, or any process whose
  file was replaced under it (compared by inode on every operation), starts a
  new pool and leaves the old connections alone. SQLite serialises writers; every
  connection waits up to ``BUSY_TIMEOUT_S`` for the lock.
* User text reaches FTS5 only through ``fts_expression`` (every term a quoted
  string) and only as a bound parameter.
* Vectors: each process mirrors the ``sentence_vectors`` table in a numpy
  matrix. A ``(epoch, generation)`` pair in ``meta`` changes with every write,
  so a reader notices writes made by other processes and syncs incrementally.
  From ``ann.ANN_MIN_VECTORS`` vectors on, an HNSW index in ``<path>.ann``
  (``claimlookup.store.ann``), mapped and so shared by every process, holds
  the rows up to its build; the matrix holds only the rows written since.
* ``get_sentences`` keeps decoded sentences and article facts in memory,
  keyed by article pk, which a rewrite never reuses: the same token tells it
  when its article id -> pk map is stale (see ``read_cache.ReadCache``).
  Vectors come from the in-memory matrix, copied.
* ``rebuild()`` builds a temp file and copies it over the live database with
  SQLite's online backup API, in one write transaction: readers keep their
  snapshot until it commits, then see the new data; the file is never swapped
  under an open WAL.
"""

from claimlookup.store.sqlite.adapter import SQLiteStore
from claimlookup.store.sqlite.connection import (
    BUSY_TIMEOUT_S,
    CACHE_KIB,
    JOURNAL_SIZE_LIMIT,
    MAX_IDLE_CONNECTIONS,
    SCHEMA_PATH,
    SCHEMA_VERSION,
)
from claimlookup.store.sqlite.fts import (
    MARK_END,
    MARK_START,
    SNIPPET_TOKENS,
    fts_exclusion,
    fts_expression,
    fts_phrase,
    markup,
)
from claimlookup.store.sqlite.read_cache import READ_CACHE_BYTES
from claimlookup.store.sqlite.search import BODY_WEIGHT, FACET_LIMIT, TITLE_WEIGHT

__all__ = [
    "BODY_WEIGHT",
    "BUSY_TIMEOUT_S",
    "CACHE_KIB",
    "FACET_LIMIT",
    "JOURNAL_SIZE_LIMIT",
    "MARK_END",
    "MARK_START",
    "MAX_IDLE_CONNECTIONS",
    "READ_CACHE_BYTES",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "SNIPPET_TOKENS",
    "SQLiteStore",
    "TITLE_WEIGHT",
    "fts_exclusion",
    "fts_expression",
    "fts_phrase",
    "markup",
]

