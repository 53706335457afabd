"""Every request the Elasticsearch adapter sends, type-checked against
Elastic's own API specification (``../shared/es-spec/types-8.19.ts`` and
``types-9.0.ts``, the TypeScript types generated from
elastic/elasticsearch-specification).

The store runs every operation through the real ``Elasticsearch`` client
over a node that records each request and answers a plausible response.
Each recorded body (and its query parameters) becomes a typed TypeScript
constant, ``const r1: NonNullable<T.SearchRequest['body']> = {...}``, and
``tsc --strict --noEmit`` compiles them: a wrong field name, enum value or
nesting fails. A self-test plants known mistakes and checks that each one
is reported, on its own line.

Needs TypeScript: ``npm install --prefix .venv typescript`` (or ``TSC=path``);
skipped without it or without the specification files, unless
``REQUIRE_ES_SPEC=1`` (set by ``.ci/run`` when ``../shared/es-spec`` and npm
are there): then a missing part fails the run instead of hiding in a skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch
from test_elastic_unit import (
    ARTICLE,
    SHARDS,
    article_source,
    bulk_ok,
    es_error,
    info,
    make_article,
    search_response,
    sentence_hit,
    sentence_source,
    unit,
)

from claimlookup.model import Filters, ParsedQuery, SearchRequest, SentenceRef, Term
from claimlookup.store.base import StoreError
from claimlookup.store.elastic import ElasticConfig, ElasticStore
from claimlookup.store.elastic import adapter as elastic_adapter

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "es-spec"
VERSIONS = ("8.19", "9.0")


def find_tsc() -> str | None:
    for candidate in (os.environ.get("TSC"), str(ROOT / ".venv" / "node_modules" / ".bin" / "tsc"),
                      shutil.which("tsc")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


TSC = find_tsc()
MISSING = ("TypeScript not installed: npm install --prefix .venv typescript" if TSC is None else
           f"no Elasticsearch specification types in {SPEC}"
           if not all((SPEC / f"types-{v}.ts").is_file() for v in VERSIONS) else None)
if MISSING and os.environ.get("REQUIRE_ES_SPEC") == "1":  # .ci/run sets it where both can be had
    raise RuntimeError(f"the Elasticsearch specification check cannot run: {MISSING}")
pytestmark = [pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]


# --- recording every request ------------------------------------------------------------

BUCKET = {"key": "idlib", "doc_count": 1, "name": {"buckets": [{"key": "Idlib", "doc_count": 1}]},
          "label": {"buckets": [{"key": "GPE", "doc_count": 1}]}}
AGGREGATIONS = {  # one shape that every parser of the adapter accepts
    "sources": {"buckets": [{"key": "SANA", "doc_count": 1, "articles": {"value": 1},
                             "first": {"value": 0, "value_as_string": "2018-02-01"},
                             "last": {"value": 0, "value_as_string": "2018-02-01"}}]},
    "months": {"buckets": [{"key_as_string": "2018-02", "key": 0, "doc_count": 1}]},
    "entities": {"doc_count": 1, "keys": {"buckets": [BUCKET]},
                 "matching": {"doc_count": 1, "keys": {"buckets": [BUCKET]}}},
}
EXPENSIVE = (400, es_error("search_phase_execution_exception",
                           "[prefix] queries cannot be executed when 'search.allow_expensive_queries' is set "
                           "to false.", 400))


class Recorder:
    """Records (method, path, params, body) and answers like a small cluster."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.refuse_prefix = True

    def answer(self, method: str, target: str, body: bytes | None) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = unquote(parts.path)
        decoded: Any = None
        if body:
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            decoded = lines if path.endswith(("/_bulk", "/_msearch")) else lines[0]
        self.requests.append((method, path, dict(parse_qsl(parts.query)), decoded))
        return self.reply(method, path, decoded)

    def reply(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        hits = [sentence_hit("reuters:1", 0, ARTICLE.content_hash, 0.9, "t")]
        if path.endswith("/_search") and "composite" in json.dumps(body):  # the leftover sweep: one leftover
            return 200, search_response([], aggregations={"generations": {"buckets": [
                {"key": {"article_id": "reuters:1", "article_hash": "0" * 64}, "doc_count": 3}]}})
        if path.endswith("/_search") and '"names"' in json.dumps(body):  # entity spellings
            return 200, search_response([], aggregations={"entities": {"doc_count": 2, "matching": {
                "doc_count": 2, "keys": {"buckets": [{"key": "idlib", "doc_count": 2, "names": {"buckets": [
                    {"key": "Idlib", "doc_count": 2}, {"key": "Idleb", "doc_count": 1}]}}]}}}})
        if path.endswith("/_search"):
            if self.refuse_prefix and '"prefix"' in json.dumps(body):
                self.refuse_prefix = False
                return EXPENSIVE
            return 200, search_response(hits, aggregations=AGGREGATIONS)
        if path.endswith("/_msearch"):
            return 200, {"took": 1, "responses": [{**search_response(hits), "status": 200}
                                                  for _ in body[::2]]}
        if path.endswith("/_mget"):
            index = path.strip("/").split("/")[0]
            docs = []
            for doc_id in body["ids"]:
                source = ({**article_source(make_article(title="An older title")), "article_id": doc_id}
                          if "articles" in index else sentence_source(0))
                docs.append({"_index": index, "_id": doc_id, "_version": 1, "_seq_no": 1, "_primary_term": 1,
                             "found": True, "_source": source})
            return 200, {"docs": docs}
        if path.endswith("/_bulk"):
            resp = bulk_ok(type("R", (), {"body": body})())  # type: ignore[arg-type]
            for item in resp["items"]:  # the article document of reuters:2 is refused
                if item.get("index", {}).get("_id") == "reuters:2":
                    item["index"] = {"_index": "claimlookup-articles", "_id": "reuters:2", "status": 400,
                                     "error": {"type": "document_parsing_exception", "reason": "planted"}}
                    resp["errors"] = True
            return 200, resp
        if path.endswith("/_delete_by_query"):
            return 200, {"took": 1, "timed_out": False, "total": 1, "deleted": 1, "batches": 1,
                         "version_conflicts": 0, "noops": 0, "retries": {"bulk": 0, "search": 0},
                         "throttled_millis": 0, "requests_per_second": -1.0, "throttled_until_millis": 0,
                         "failures": []}
        if path.endswith(("/_count",)):
            return 200, {"count": 1, "_shards": SHARDS}
        if path.endswith(("/_refresh", "/_forcemerge")):
            return 200, {"_shards": SHARDS}
        if path == "/":
            return 200, info("9.2.0")
        if path == "/_cluster/health":
            return 200, {"cluster_name": "c", "status": "green", "timed_out": False}
        if path.startswith("/_alias/"):
            alias = path.rsplit("/", 1)[1]
            return 200, {f"{alias}-v1-initial": {"aliases": {alias: {}}}}
        if "/_doc/" in path:
            if method == "DELETE":
                return 200, {"_index": "i", "_id": "x", "_version": 2, "result": "deleted",
                             "_shards": SHARDS, "_seq_no": 2, "_primary_term": 1}
            return 200, {"_index": "i", "_id": "x", "_version": 1, "_seq_no": 1, "_primary_term": 1,
                         "found": True, "_source": article_source()}
        if method == "HEAD":
            return 404, None
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": path.strip("/")}


class RecordingNode(BaseNode):
    recorder: Recorder

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: Any = None, request_timeout: Any = None) -> NodeApiResponse:
        status, payload = self.recorder.answer(method, target, body)
        meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.001, node=self.config,
                               headers=HttpHeaders({"content-type": "application/json",
                                                    "x-elastic-product": "Elasticsearch"}))
        return NodeApiResponse(meta, b"" if method == "HEAD" or payload is None else json.dumps(payload).encode())


def every_operation(store: ElasticStore) -> None:
    """Each Store operation, in the shapes that build different requests."""
    words = ParsedQuery(groups=((Term("jets"), Term("market strike", phrase=True)),),
                        excluded=(Term("chlorine"),))
    filters = Filters(sources=("SANA",), date_from=date(2017, 1, 1), date_to=date(2019, 12, 31),
                      entities=("idlib",), exclude_articles=("x:1",))
    store.setup()
    store.ping()
    store.content_hashes(["reuters:1"])
    list(store.write_articles([ARTICLE]))  # an update: the recorder's stored version differs
    store.delete_article("reuters:1")
    with store.rebuild() as staging:
        list(staging.write_articles([ARTICLE]))
    with contextlib.suppress(RuntimeError), store.rebuild():
        raise RuntimeError("a failed rebuild deletes its new indices")
    store.get_article("reuters:1")
    store.get_articles(["reuters:1"])  # the lookup's batched article read
    for level in ("article", "sentence"):
        for sort in ("relevance", "date"):
            store.search(SearchRequest(query=words, filters=filters, level=level, sort=sort, facets=True))
        store.search(SearchRequest(level=level, page=2, size=5))  # a listing
    store.entities("Idl", "gpe", 5)  # refused as expensive, then the cheap form
    store.entities()
    assert store.entity_spellings(["idlib", "aleppo"]) == {"idlib": ["Idlib", "Idleb"]}
    store.sources()
    store.count_articles()
    store.lexical_candidates(words, filters, 20, restrict_to=[SentenceRef("reuters:1", 0)])
    store.vector_candidates(np.stack([unit(0), unit(1)]), filters, 10)
    store.get_sentences([SentenceRef("reuters:1", 0)])
    # the lookup's candidates: kNN and BM25 searches in one msearch
    store.find_candidates([words, ParsedQuery()], np.stack([unit(0), unit(1)]), filters, lexical_limit=20,
                          vector_limit=10)
    store.remove_leftovers(["reuters:1"])
    store.sweep_leftovers(grace=0)  # the composite aggregation and its delete-by-query
    failing = make_article(id="reuters:2")
    with contextlib.suppress(StoreError):  # a rejected commit: the batch's sentences are deleted by id
        list(store.write_articles([failing]))


@pytest.fixture(scope="module")
def recorded() -> list[tuple[str, str, dict[str, str], Any]]:
    recorder = Recorder()
    node_class = type("BoundRecordingNode", (RecordingNode,), {"recorder": recorder})
    original = elastic_adapter.Elasticsearch
    elastic_adapter.Elasticsearch = lambda **kw: Elasticsearch(node_class=node_class, **kw)  # type: ignore[misc]
    try:
        every_operation(ElasticStore("http://es.test:9200", config=ElasticConfig(replicas=0)))
    finally:
        elastic_adapter.Elasticsearch = original  # type: ignore[misc]
    return recorder.requests


# --- recorded requests -> typed TypeScript constants -------------------------------------

#: (method, path pattern) -> the specification's request type.
ENDPOINTS: list[tuple[str, str, str]] = [
    ("POST", r"/[^/_][^/]*/_search", "SearchRequest"),
    ("POST", r"/[^/_][^/]*/_msearch", "MsearchRequest"),
    ("POST", r"/[^/_][^/]*/_mget", "MgetRequest"),
    ("POST", r"/[^/_][^/]*/_count", "CountRequest"),
    ("POST", r"/[^/_][^/]*/_delete_by_query", "DeleteByQueryRequest"),
    ("POST", r"/[^/_][^/]*/_refresh", "IndicesRefreshRequest"),
    ("POST", r"/[^/_][^/]*/_forcemerge", "IndicesForcemergeRequest"),
    ("PUT", r"/[^/_][^/]*/_settings", "IndicesPutSettingsRequest"),
    ("PUT", r"/_bulk", "BulkRequest"),
    ("POST", r"/_aliases", "IndicesUpdateAliasesRequest"),
    ("GET", r"/_alias/[^/]+", "IndicesGetAliasRequest"),
    ("GET", r"/_cluster/health", "ClusterHealthRequest"),
    ("GET", r"/", "InfoRequest"),
    ("GET", r"/[^/_][^/]*/_doc/[^/]+", "GetRequest"),
    ("DELETE", r"/[^/_][^/]*/_doc/[^/]+", "DeleteRequest"),
    ("HEAD", r"/[^/_][^/]*", "IndicesExistsRequest"),
    ("PUT", r"/[^/_][^/]*", "IndicesCreateRequest"),
    ("DELETE", r"/[^/_][^/]*", "IndicesDeleteRequest"),
]


def request_type(method: str, path: str) -> str:
    for m, pattern, name in ENDPOINTS:
        if m == method and re.fullmatch(pattern, path):
            return name
    raise AssertionError(f"no specification type for {method} {path}: add it to ENDPOINTS")


def param_value(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


def path_params(name: str, path: str) -> dict[str, Any]:
    segments = [s for s in path.split("/") if s]
    if name in ("GetRequest", "DeleteRequest"):
        return {"index": segments[0], "id": segments[2]}
    if name == "IndicesGetAliasRequest":
        return {"name": segments[1]}
    if segments and not segments[0].startswith("_"):
        return {"index": segments[0]}
    return {}


def typescript_for(n: int, method: str, path: str, params: dict[str, str], body: Any, version: str) -> list[str]:
    """Typed constants for one request: its parameters and its body (or body lines)."""
    name = request_type(method, path)
    lines = [f"const p{n}: Omit<T.{name}, 'body'> = "
             f"{json.dumps({**path_params(name, path), **{k: param_value(v) for k, v in params.items()}})};"]
    if body is None:
        return lines
    if name == "BulkRequest":
        follows_doc = False
        for i, line in enumerate(body):
            if follows_doc:
                follows_doc = False
                continue
            lines.append(f"const b{n}_{i}: T.BulkOperationContainer = {json.dumps(line)};")
            follows_doc = "delete" not in line
        return lines
    if name == "MsearchRequest":
        search_body = "MsearchMultisearchBody" if version == "8.19" else "SearchSearchRequestBody"
        for i, line in enumerate(body):
            kind = "MsearchMultisearchHeader" if i % 2 == 0 else search_body
            lines.append(f"const m{n}_{i}: T.{kind} = {json.dumps(line)};")
        return lines
    lines.append(f"const r{n}: NonNullable<T.{name}['body']> = {json.dumps(body)};")
    return lines


def compile_typescript(tmp: Path, version: str, statements: list[str]) -> list[str]:
    """tsc's error lines for ``statements`` checked against one version's types."""
    shutil.copy(SPEC / f"types-{version}.ts", tmp / "types.ts")
    source = ["import * as T from './types'", "", *statements, ""]
    (tmp / "requests.ts").write_text("\n".join(source), encoding="utf-8")
    assert TSC is not None
    result = subprocess.run([TSC, "--strict", "--noEmit", "--target", "es2020", "--moduleResolution", "node",
                             "--skipLibCheck", "requests.ts"], cwd=tmp, capture_output=True, text=True, timeout=300)
    return [line for line in result.stdout.splitlines() if line.startswith("requests.ts(")]


def all_statements(recorded: list[tuple[str, str, dict[str, str], Any]], version: str) -> Iterator[str]:
    for n, (method, path, params, body) in enumerate(recorded):
        yield from typescript_for(n, method, path, params, body, version)


# --- the checks ------------------------------------------------------------------------------


def test_every_operation_was_recorded(recorded: list[tuple[str, str, dict[str, str], Any]]) -> None:
    kinds = {request_type(m, p) for m, p, _, _ in recorded}
    assert kinds == {name for _, _, name in ENDPOINTS}, "an endpoint in ENDPOINTS was never exercised"
    assert len(recorded) >= 45
    bodies = [b for _, _, _, b in recorded if b is not None]
    assert any("knn" in line for b in bodies if isinstance(b, list) for line in b)
    assert any({"knn", "query"} <= {key for line in b for key in line} for b in bodies if isinstance(b, list))
    assert any("include" in json.dumps(b) and "aggs" in json.dumps(b) for b in bodies)  # the cheap entities form
    assert any("composite" in json.dumps(b) for b in bodies)  # the leftover sweep's pages
    assert any("article_hash" in json.dumps(b) and "should" in json.dumps(b)  # and its delete-by-query
               for m, p, _, b in recorded if p.endswith("/_delete_by_query"))
    deletes = [line["delete"]["_id"] for m, p, _, b in recorded if p == "/_bulk" for line in b if "delete" in line]
    assert any(i.startswith("reuters:2:") for i in deletes)  # the failed batch's cleanup by id


@pytest.mark.parametrize("version", VERSIONS)
def test_every_request_matches_the_specification(recorded: list[tuple[str, str, dict[str, str], Any]],
                                                 version: str, tmp_path: Path) -> None:
    errors = compile_typescript(tmp_path, version, list(all_statements(recorded, version)))
    assert errors == [], "\n".join(errors)


#: Mistakes the check must catch: (what, method, path, params, body).
PLANTED: list[tuple[str, str, str, dict[str, str], Any]] = [
    ("score shorthand", "POST", "/i/_search", {}, {"sort": [{"_score": "desc"}]}),
    ("misspelled field", "POST", "/i/_search", {}, {"track_total_hit": True}),
    ("bad enum", "POST", "/i/_search", {}, {"aggs": {"m": {"date_histogram": {
        "field": "published", "calendar_interval": "monthly"}}}}),
    ("wrong nesting", "POST", "/i/_search", {}, {"query": {"match": {"text": {"query": "x", "operator": "AND_"}}}}),
    ("bad vector index type", "PUT", "/i", {}, {"mappings": {"properties": {"v": {
        "type": "dense_vector", "dims": 3, "index_options": {"type": "int9_hnsw"}}}}}),
    ("unknown query parameter", "POST", "/i/_mget", {"_source_include": "a"}, {"ids": ["a"]}),
    ("bulk action typo", "PUT", "/_bulk", {}, [{"indx": {"_index": "i", "_id": "1"}}, {"a": 1}]),
]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_check_catches_planted_mistakes(version: str, tmp_path: Path) -> None:
    statements: list[str] = []
    planted_lines: dict[int, str] = {}
    for n, (what, method, path, params, body) in enumerate(PLANTED):
        for statement in typescript_for(1000 + n, method, path, params, body, version):
            statements.append(statement)
            if what == "unknown query parameter" and statement.startswith("const p") \
                    or what != "unknown query parameter" and not statement.startswith("const p"):
                planted_lines[len(statements) + 2] = what  # +2: the import line and the blank line
    errors = compile_typescript(tmp_path, version, statements)
    reported = {int(m.group(1)) for line in errors if (m := re.match(r"requests\.ts\((\d+),", line))}
    missed = [what for line, what in planted_lines.items() if line not in reported]
    assert not missed, f"planted mistakes not caught: {missed}\n" + "\n".join(errors)
    assert reported <= set(planted_lines), "errors on lines without a planted mistake:\n" + "\n".join(errors)
