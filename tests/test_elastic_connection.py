"""The Elasticsearch adapter's configuration and failure modes of a secured,
production cluster, without a server: the settings, the real ``Elasticsearch``
client the adapter builds from them (credentials, TLS), and what the store
does with 401/403, missing indices, partial answers, a key without
``monitor`` and a cluster that refuses expensive queries (through the real
client with the fake node of ``test_elastic_unit``)."""

from __future__ import annotations

import base64
import warnings
from typing import Any

import certifi
import numpy as np
import pytest
from elastic_transport import Urllib3HttpNode
from elasticsearch import Elasticsearch
from test_elastic_unit import (
    DBQ_OK,
    SHARDS,
    FakeElasticsearch,
    FakeNode,
    api_error,
    bind_fake,
    composite_page,
    es_error,
    mget_response,
    search_response,
    sentence_hit,
    unit,
)

from claimlookup.model import Filters, SearchRequest, SentenceRef
from claimlookup.settings import Settings
from claimlookup.store import elastic
from claimlookup.store.base import StoreError, StoreUnavailable
from claimlookup.store.elastic import ElasticConfig, ElasticStore, StoreAccessDenied, StoreNotSetUp, StorePartialResults
from claimlookup.store.elastic import adapter as elastic_adapter

HTTPS = "https://es.test:9200"


@pytest.fixture(autouse=True)
def no_es_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CLAIMLOOKUP_ES_* of the developer's shell reaches these tests."""
    for variable in Settings.variables().values():
        if variable.startswith("CLAIMLOOKUP_ES_"):
            monkeypatch.delenv(variable, raising=False)


# --- settings -> config -> client ------------------------------------------------------


def test_settings_read_the_connection_variables() -> None:
    settings = Settings.from_env({
        "CLAIMLOOKUP_ES_API_KEY": "aWQ6a2V5", "CLAIMLOOKUP_ES_CA_CERTS": "/certs/ca.crt",
        "CLAIMLOOKUP_ES_VERIFY_CERTS": "False", "CLAIMLOOKUP_ES_REQUEST_TIMEOUT": "2.5",
        "CLAIMLOOKUP_ES_WRITE_TIMEOUT": "120", "CLAIMLOOKUP_ES_SHARDS": "3", "CLAIMLOOKUP_ES_REPLICAS": "0",
        "CLAIMLOOKUP_ES_VECTOR_INDEX_TYPE": "int8_hnsw"})
    assert ElasticConfig.from_settings(settings) == ElasticConfig(
        api_key="aWQ6a2V5", ca_certs="/certs/ca.crt", verify_certs=False, request_timeout=2.5, write_timeout=120.0,
        shards=3, replicas=0, vector_index_type="int8_hnsw")
    assert ElasticConfig.from_settings(Settings()) == ElasticConfig()
    assert Settings().es_verify_certs is True


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("1", True), ("YES", True), ("on", True),
                                            ("false", False), ("0", False), ("No", False), (" off ", False)])
def test_true_false_settings(raw: str, value: bool) -> None:
    assert Settings.from_env({"CLAIMLOOKUP_ES_VERIFY_CERTS": raw}).es_verify_certs is value


@pytest.mark.parametrize(("variable", "raw"), [("CLAIMLOOKUP_ES_VERIFY_CERTS", "maybe"),
                                               ("CLAIMLOOKUP_ES_REQUEST_TIMEOUT", "5s"),
                                               ("CLAIMLOOKUP_ES_SHARDS", "two")])
def test_a_bad_value_names_its_variable(variable: str, raw: str) -> None:
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: raw})


def test_the_store_reads_its_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMLOOKUP_ES_USERNAME", "claimlookup")
    monkeypatch.setenv("CLAIMLOOKUP_ES_PASSWORD", "s3cret")
    monkeypatch.setenv("CLAIMLOOKUP_ES_REQUEST_TIMEOUT", "7")
    store = ElasticStore(HTTPS)
    assert store.config == ElasticConfig(username="claimlookup", password="s3cret", request_timeout=7.0)


def built_client(config: ElasticConfig, url: str = HTTPS) -> Elasticsearch:
    """The real client exactly as the store builds it (no request is sent)."""
    store = ElasticStore(url, config=config)
    client = store._es
    assert isinstance(client, Elasticsearch)
    return client


def node_config(client: Elasticsearch) -> Any:
    (node,) = client.transport.node_pool.all()
    assert isinstance(node, Urllib3HttpNode)
    return node.config


def test_encoded_api_key_becomes_the_authorization_header() -> None:
    client = built_client(ElasticConfig(api_key="VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="))
    assert client._headers["authorization"] == "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


def test_id_and_key_api_key_is_encoded() -> None:
    client = built_client(ElasticConfig(api_key="VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"))
    expected = base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode()
    assert client._headers["authorization"] == f"ApiKey {expected}"


def test_basic_auth() -> None:
    client = built_client(ElasticConfig(username="elastic", password="changeme"))
    assert client._headers["authorization"] == "Basic " + base64.b64encode(b"elastic:changeme").decode()


def test_ca_certificate_with_verification_on_by_default() -> None:
    config = node_config(built_client(ElasticConfig(ca_certs=certifi.where())))
    assert config.scheme == "https" and config.verify_certs is True and config.ca_certs == certifi.where()
    assert config.ssl_assert_fingerprint is None


def test_fingerprint_pins_the_certificate() -> None:
    fingerprint = "A1:B2:" + "C3:" * 29 + "D4"
    config = node_config(built_client(ElasticConfig(ssl_fingerprint=fingerprint)))
    assert config.ssl_assert_fingerprint == fingerprint and config.ca_certs is None


def test_verification_can_be_turned_off_with_a_warning() -> None:
    with pytest.warns(Warning, match="verify_certs=False is insecure"):
        config = node_config(built_client(ElasticConfig(verify_certs=False)))
    assert config.verify_certs is False


def test_plain_http_gets_no_tls_options_and_the_configured_timeout() -> None:
    options = ElasticConfig(request_timeout=2.0).client_options("http://es.test:9200")
    assert options == {"hosts": "http://es.test:9200", "request_timeout": 2.0, "max_retries": 1,
                       "retry_on_timeout": False}


@pytest.mark.parametrize(("config", "url", "message"), [
    (ElasticConfig(api_key="k", username="u", password="p"), HTTPS, "not both"),
    (ElasticConfig(password="p"), HTTPS, "without CLAIMLOOKUP_ES_USERNAME"),
    (ElasticConfig(ca_certs="/ca.crt"), "http://es.test:9200", "https://"),
    (ElasticConfig(ssl_fingerprint="AA:BB"), "http://es.test:9200", "https://"),
    (ElasticConfig(ca_certs="/ca.crt", ssl_fingerprint="AA:BB"), HTTPS, "not both"),
    (ElasticConfig(request_timeout=0), HTTPS, "positive"),
    (ElasticConfig(shards=0), HTTPS, "CLAIMLOOKUP_ES_SHARDS"),
    (ElasticConfig(vector_index_type="bbq_flat"), HTTPS, "CLAIMLOOKUP_ES_VECTOR_INDEX_TYPE"),
])
def test_contradictory_configuration_fails_when_the_store_is_made(config: ElasticConfig, url: str,
                                                                   message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ElasticStore(url, config=config)


# --- through the real client, with a fake node ---------------------------------------------


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeElasticsearch:
    fake = FakeElasticsearch()
    bind_fake(monkeypatch, fake)
    return fake


class HeaderNode(FakeNode):
    """Also records the headers of each request."""

    sent_headers: list[Any] = []

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: Any = None, request_timeout: Any = None) -> Any:
        self.sent_headers.append(dict(headers or {}))
        return super().perform_request(method, target, body, headers, request_timeout)


def test_the_api_key_is_sent_with_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeElasticsearch()
    node_class = bind_fake(monkeypatch, fake, HeaderNode, sent_headers=[])
    fake.on("POST", "/claimlookup-articles/_count", {"count": 3, "_shards": SHARDS})
    store = ElasticStore("http://es.test:9200", config=ElasticConfig(api_key="aWQ6a2V5", request_timeout=2.0))
    assert store.count_articles() == 3
    assert node_class.sent_headers[0]["authorization"] == "ApiKey aWQ6a2V5"
    assert fake.requests[0].timeout == 2.0


@pytest.fixture
def store(server: FakeElasticsearch) -> ElasticStore:
    return ElasticStore("http://es.test:9200", config=ElasticConfig())


def test_wrong_credentials_are_access_denied(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_count", (401, es_error(
        "security_exception", "unable to authenticate with provided credentials and anonymous access is not "
        "allowed for this request", 401)))
    with pytest.raises(StoreAccessDenied, match="401.*CLAIMLOOKUP_ES_API_KEY"):
        store.count_articles()


def test_a_missing_privilege_is_access_denied(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_search", (403, es_error(
        "security_exception", "action [indices:data/read/search] is unauthorized for API key id [k]", 403)))
    with pytest.raises(StoreAccessDenied, match="403.*privilege") as raised:
        store.sources()
    assert isinstance(raised.value, StoreUnavailable)  # the API answers 503 until the key is fixed


def test_translation_table_for_access_and_setup() -> None:
    assert type(elastic.translate_api_error(api_error(401, es_error("security_exception", "x", 401)))) \
        is StoreAccessDenied
    assert type(elastic.translate_api_error(api_error(403, es_error("security_exception", "x", 403)))) \
        is StoreAccessDenied
    missing = api_error(404, es_error("index_not_found_exception", "no such index [claimlookup-articles]", 404))
    assert type(elastic.translate_api_error(missing)) is StoreNotSetUp


def test_a_missing_index_in_an_mget_item_is_not_set_up(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", {"docs": [{"_index": "claimlookup-articles", "_id": "a",
                                                               "error": {"type": "index_not_found_exception",
                                                                         "reason": "no such index"}}]})
    with pytest.raises(StoreNotSetUp, match="index missing"):
        store.content_hashes(["a"])


def test_ping_without_monitor_privilege_counts_instead(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("GET", "/_cluster/health", (403, es_error(
        "security_exception", "action [cluster:monitor/health] is unauthorized for API key id [k]", 403)))
    server.on("POST", "/claimlookup-articles/_count", {"count": 0, "_shards": SHARDS},
              (404, es_error("index_not_found_exception", "no such index [claimlookup-articles]", 404)))
    store.ping()
    assert server.calls() == [("GET", "/_cluster/health"), ("POST", "/claimlookup-articles/_count")]
    with pytest.raises(StoreNotSetUp):
        store.ping()


def test_ping_with_wrong_credentials_is_access_denied(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("GET", "/_cluster/health", (401, es_error("security_exception", "unable to authenticate", 401)))
    with pytest.raises(StoreAccessDenied):
        store.ping()
    assert server.calls() == [("GET", "/_cluster/health")]


# --- partial answers ---------------------------------------------------------------------

FAILED_SHARD = {"total": 2, "successful": 1, "skipped": 0, "failed": 1, "failures": [
    {"shard": 1, "index": "claimlookup-sentences-v1-initial", "node": "n1",
     "reason": {"type": "node_not_connected_exception", "reason": "[es02] Node not connected"}}]}


def test_a_search_with_failed_shards_raises(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_search", {**search_response([]), "_shards": FAILED_SHARD})
    with pytest.raises(StorePartialResults, match="1 failed of 2 shard.*node_not_connected_exception"):
        store.search(SearchRequest())


def test_a_timed_out_search_raises(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_search", {**search_response([]), "timed_out": True})
    with pytest.raises(StorePartialResults, match="timed out"):
        store.entities()


def test_a_partial_msearch_item_raises(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-sentences/_msearch", {"took": 5, "responses": [
        {**search_response([sentence_hit("a1", 0, "h1", 1.0, "t")]), "status": 200},
        {**search_response([]), "_shards": FAILED_SHARD, "status": 200}]})
    with pytest.raises(StorePartialResults):
        store.vector_candidates(np.stack([unit(0), unit(1)]), Filters(), 5)
    assert server.calls() == [("POST", "/claimlookup-sentences/_msearch")]  # nothing read after it


def test_a_partial_count_raises(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_count", {"count": 400, "_shards": FAILED_SHARD})
    with pytest.raises(StorePartialResults):
        store.count_articles()


def test_check_complete_accepts_whole_answers() -> None:
    elastic.check_complete(search_response([]))
    elastic.check_complete({"count": 1, "_shards": SHARDS})
    elastic.check_complete({"_shards": {"total": 2, "successful": 1, "skipped": 1, "failed": 0}})


# --- a cluster that refuses expensive queries ---------------------------------------------

EXPENSIVE = (400, es_error("search_phase_execution_exception", "all shards failed", 400) | {"error": {
    "root_cause": [{"type": "query_shard_exception", "reason": "[prefix] queries cannot be executed when "
                    "'search.allow_expensive_queries' is set to false. For optimised prefix queries on text "
                    "fields please enable [index_prefixes]."}],
    "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query"}})
ENTITIES = search_response([], aggregations={"entities": {"doc_count": 2, "matching": {"doc_count": 2, "keys": {
    "buckets": [{"key": "white helmets", "doc_count": 2, "name": {"buckets": [{"key": "White Helmets",
                                                                                "doc_count": 2}]},
                 "label": {"buckets": [{"key": "ORG", "doc_count": 2}]}}]}}}})


def test_entity_prefix_falls_back_to_a_key_regex_when_expensive_queries_are_off(
        server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_search", EXPENSIVE, ENTITIES)
    found = store.entities("White H", "org", 5)
    assert [(e.key, e.name, e.label, e.articles) for e in found] == [("white helmets", "White Helmets", "ORG", 2)]
    first, second = server.requests
    assert first.body == elastic.build_entities_body("White H", "org", 5)
    assert second.body == elastic.build_entities_body("White H", "org", 5, cheap=True)
    keys = second.body["aggs"]["entities"]["aggs"]["matching"]["aggs"]["keys"]["terms"]
    assert keys["include"] == "white h.*"
    assert "prefix" not in str(second.body["aggs"]["entities"]["aggs"]["matching"]["filter"])
    store.entities("Syr")  # from now on straight to the cheap form
    assert server.requests[2].body == elastic.build_entities_body("Syr", None, 20, cheap=True)


def test_other_bad_requests_are_not_taken_for_expensive_queries(server: FakeElasticsearch,
                                                                store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_search", (400, es_error("parsing_exception", "unknown query", 400)))
    with pytest.raises(StoreError) as raised:
        store.entities("white")
    assert not isinstance(raised.value, StoreUnavailable) and len(server.requests) == 1


@pytest.mark.parametrize(("prefix", "pattern"), [("White H", "white h.*"), ("U.S.", "u\\.s\\..*"),
                                                 ('a*b"(c)', 'a\\*b\\"\\(c\\).*'), ("al-Nusra", "al-nusra.*")])
def test_key_prefix_pattern_escapes_regex_syntax(prefix: str, pattern: str) -> None:
    assert elastic.key_prefix_pattern(prefix) == pattern


# --- Elasticsearch 9.2 shapes --------------------------------------------------------------


def test_sentences_read_from_a_92_index_without_the_setting_have_no_vector(server: FakeElasticsearch,
                                                                            store: ElasticStore) -> None:
    """What 9.2 answers for an index created without ``exclude_source_vectors:
    false`` (vectors left out of ``_source``): the sentence comes back without
    a vector, which is why indices are created with the setting on 9.2+."""
    from test_elastic_unit import HASH, sentence_source
    facts = {"article_id": "reuters:1", "content_hash": HASH, "entities": []}
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [("reuters:1", facts)]))
    src = {k: v for k, v in sentence_source(0).items() if k != "vector"}
    server.on("POST", "/claimlookup-sentences/_mget", lambda r: mget_response(
        "claimlookup-sentences", [(i, src) for i in r.body["ids"]]))
    (stored,) = store.get_sentences([SentenceRef("reuters:1", 0)])
    assert stored.sentence.vector is None


def test_remove_leftovers_deletes_uncommitted_generations(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on("POST", "/claimlookup-articles/_mget", mget_response("claimlookup-articles", [
        ("a", {"article_id": "a", "content_hash": "h1"}), ("b", None)]))
    server.on("POST", "/claimlookup-sentences/_delete_by_query", {
        "took": 3, "timed_out": False, "total": 2, "deleted": 2, "batches": 1, "version_conflicts": 0, "noops": 0,
        "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0, "requests_per_second": -1.0,
        "throttled_until_millis": 0, "failures": []})
    store.remove_leftovers(["a", "b"])
    assert server.requests[1].body == elastic.build_cleanup_body({"a": "h1", "b": ""})
    store.remove_leftovers([])
    assert len(server.requests) == 2


# --- the leftover sweep ----------------------------------------------------------------------

SWEEP_SEARCH = ("POST", "/claimlookup-sentences/_search")
ARTICLES_MGET = ("POST", "/claimlookup-articles/_mget")
SWEEP_DELETE = ("POST", "/claimlookup-sentences/_delete_by_query")


def committed_articles(committed: dict[str, str]) -> Any:
    """An articles mget that answers from ``committed`` (article id -> content hash) as it is at the time."""
    return lambda request: mget_response("claimlookup-articles", [
        (i, {"article_id": i, "content_hash": committed[i]} if i in committed else None)
        for i in request.body["ids"]])


def test_the_sweep_pages_through_generations_waits_the_grace_and_keeps_what_committed_meanwhile(
        server: FakeElasticsearch, store: ElasticStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1,001 generations: page 1 is full (999 committed ones and a's leftover), page 2 holds the rest
    first = [(f"c{n:03}", "h") for n in range(999)] + [("a", "old")]
    committed = {f"c{n:03}": "h" for n in range(999)} | {"a": "new", "c": "g0"}
    server.on(*SWEEP_SEARCH, composite_page(first), composite_page([("a", "new"), ("b", "g1"), ("c", "g2")]))
    server.on(*ARTICLES_MGET, committed_articles(committed))
    server.on(*SWEEP_DELETE, DBQ_OK | {"total": 5, "deleted": 5, "batches": 1})
    slept: list[float] = []

    def grace(seconds: float) -> None:  # b's write, in flight when the sweep looked, commits during the grace
        slept.append(seconds)
        committed["b"] = "g1"

    monkeypatch.setattr(elastic_adapter, "sleep", grace)
    assert store.sweep_leftovers() == 5
    assert slept == [store.sweep_grace] == [300.0]  # 5 write timeouts of 60 s
    assert server.calls() == [SWEEP_SEARCH, ARTICLES_MGET, SWEEP_SEARCH, ARTICLES_MGET, ARTICLES_MGET, SWEEP_DELETE]
    page1, page2 = server.requests[0], server.requests[2]
    assert page1.body == elastic.build_generations_body() and page1.timeout == 60.0
    assert page2.body == elastic.build_generations_body({"article_id": "a", "article_hash": "old"})
    assert len(server.requests[1].body["ids"]) == 1000 and server.requests[3].body == {"ids": ["a", "b", "c"]}
    assert server.requests[4].body == {"ids": ["a", "b", "c"]}  # phase 2 reads the commits again
    delete = server.requests[5]
    assert delete.body == elastic.build_generations_cleanup_body([("a", "old"), ("c", "g2")])
    assert delete.params == {"conflicts": "proceed"} and delete.timeout == 60.0


def test_phase_one_reports_every_uncommitted_generation(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on(*SWEEP_SEARCH, composite_page([("a", "h0"), ("a", "h1"), ("a", "h2"), ("gone", "h9")]))
    server.on(*ARTICLES_MGET, committed_articles({"a": "h1"}))
    assert store.leftover_generations() == {"a": {"h0", "h2"}, "gone": {"h9"}}  # "gone": no article document
    assert server.calls() == [SWEEP_SEARCH, ARTICLES_MGET]  # a short page is the last


def test_no_leftovers_no_wait_and_no_delete(server: FakeElasticsearch, store: ElasticStore,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server.on(*SWEEP_SEARCH, composite_page([("a", "h1")]))
    server.on(*ARTICLES_MGET, committed_articles({"a": "h1"}))
    monkeypatch.setattr(elastic_adapter, "sleep", lambda seconds: pytest.fail("waited with nothing to remove"))
    assert store.sweep_leftovers() == 0
    assert store.remove_generations({}) == 0
    assert server.calls() == [SWEEP_SEARCH, ARTICLES_MGET]


def test_a_generation_committed_before_phase_two_is_never_deleted(server: FakeElasticsearch,
                                                                  store: ElasticStore) -> None:
    server.on(*ARTICLES_MGET, committed_articles({"a": "h1", "b": "h2"}))
    assert store.remove_generations({"a": {"h1"}, "b": {"h2"}}) == 0
    assert server.calls() == [ARTICLES_MGET]


def test_a_partial_sweep_page_raises_before_anything_is_deleted(server: FakeElasticsearch,
                                                                store: ElasticStore) -> None:
    server.on(*SWEEP_SEARCH, composite_page([("a", "h0")]) | {"_shards": FAILED_SHARD})
    with pytest.raises(StorePartialResults):
        store.sweep_leftovers(grace=0)
    assert server.calls() == [SWEEP_SEARCH]


def test_an_incomplete_sweep_delete_raises(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on(*ARTICLES_MGET, committed_articles({}))
    server.on(*SWEEP_DELETE, DBQ_OK | {"timed_out": True})
    with pytest.raises(StoreUnavailable, match="incomplete"):
        store.remove_generations({"a": {"h0"}})


def test_many_leftovers_are_deleted_in_several_requests(server: FakeElasticsearch, store: ElasticStore) -> None:
    server.on(*ARTICLES_MGET, committed_articles({}))
    server.on(*SWEEP_DELETE, lambda request: DBQ_OK | {"deleted": len(request.body["query"]["bool"]["should"])})
    found = {f"a{n:04}": {"h0"} for n in range(elastic.SWEEP_DELETE_PAIRS + 1)}
    assert store.remove_generations(found) == elastic.SWEEP_DELETE_PAIRS + 1
    assert server.calls() == [ARTICLES_MGET, SWEEP_DELETE] * 2  # each delete right after its own re-read
    assert [len(r.body["query"]["bool"]["should"]) for r in server.requests if r.path.endswith("_delete_by_query")] \
        == [elastic.SWEEP_DELETE_PAIRS, 1]


def test_no_warning_for_a_verified_https_client() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built_client(ElasticConfig(ca_certs=certifi.where()))
