"""The contract itself: valid, complete, and matching the app both ways.

These tests fail when a route, a method, a parameter, a response field or a
schema exists in the code but not in ``openapi.yaml`` (or the reverse), and
when a public path is missing from docs/api.md.
"""

from __future__ import annotations

import inspect
import re
from types import SimpleNamespace
from typing import Any

import pytest
from apicontract import ROOT, spec_dict
from marshmallow import Schema
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

import api.articles_schemas
import api.catalog
import api.claims_schemas
import api.common_schemas
import api.search
from api import SPEC_PATH

#: The modules that define marshmallow schemas (each beside its blueprint).
SCHEMA_MODULES = (api.common_schemas, api.search, api.catalog, api.articles_schemas, api.claims_schemas)
schemas = SimpleNamespace(**{name: obj for module in SCHEMA_MODULES for name, obj in vars(module).items()
                             if inspect.isclass(obj) and obj.__module__ == module.__name__})

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
#: Methods Flask adds to every route by itself.
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}

#: marshmallow output schema -> the component that documents it.
OUTPUT_SCHEMAS: dict[type[Schema], str] = {
    schemas.HitSchema: "SearchHit",
    schemas.FacetCountSchema: "FacetCount",
    schemas.EntityFacetSchema: "EntityFacetCount",
    schemas.FacetsSchema: "Facets",
    schemas.SearchPageSchema: "SearchPage",
    schemas.ArticleSummarySchema: "ArticleSummary",
    schemas.ArticleListSchema: "ArticleList",
    schemas.EntityMentionSchema: "EntityMention",
    schemas.QuantitySchema: "Quantity",
    schemas.SentenceSchema: "Sentence",
    schemas.ArticleSchema: "Article",
    schemas.EntityCountSchema: "EntityCount",
    schemas.SourceCountSchema: "SourceCount",
    schemas.IngestOutcomeSchema: "IngestOutcome",
    schemas.IngestResultSchema: "IngestResult",
    schemas.ClaimViewSchema: "ClaimView",
    schemas.ReportQuantitySchema: "ReportQuantity",
    schemas.ReportSentenceSchema: "ReportSentence",
    schemas.CopySchema: "Copy",
    schemas.ReportSchema: "Report",
    schemas.FigureValueSchema: "FigureValue",
    schemas.FigureRowSchema: "FigureRow",
    schemas.SummarySchema: "Summary",
    schemas.LookupResultSchema: "LookupResult",
    schemas.ScannedSentenceSchema: "ScannedSentence",
    schemas.SkippedSentenceSchema: "SkippedSentence",
    schemas.ScanResultSchema: "ScanResult",
}
#: marshmallow body schema -> the components that document it (the alternatives of a oneOf).
BODY_SCHEMAS: dict[type[Schema], tuple[str, ...]] = {
    schemas.ArticleIn: ("ArticleInput",),
    schemas.ArticleBatchIn: ("ArticleBatch",),
    schemas.LookupBody: ("LookupRequest",),
    schemas.ScanBody: ("ScanTextRequest", "ScanArticleRequest"),
}
#: marshmallow query-string schema -> (path, method) whose parameters it loads.
QUERY_SCHEMAS: dict[type[Schema], tuple[str, str]] = {
    schemas.SearchArgs: ("/v1/search", "get"),
    schemas.ListingArgs: ("/v1/articles", "get"),
    schemas.EntityArgs: ("/v1/entities", "get"),
    schemas.NoArgs: ("/v1/sources", "get"),
    schemas.LookupArgs: ("/v1/claims/lookup", "get"),
    schemas.ReportsArgs: ("/v1/articles/{article_id}/reports", "get"),
}
#: Base classes with no wire format of their own.
ABSTRACT_SCHEMAS = {schemas.StrictSchema, schemas.PageSchema, schemas._ReportFilters}


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in spec["paths"].items()
            for method in item if method in HTTP_METHODS}


def flask_path(rule: str) -> str:
    """``/v1/articles/<path:article_id>`` -> ``/v1/articles/{article_id}``."""
    return re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule)


def test_spec_is_valid_openapi() -> None:
    validate(spec_dict())
    assert spec_dict()["openapi"].startswith("3.0")


def test_every_route_is_documented_and_every_documented_path_has_a_route(app) -> None:
    routes = {(flask_path(rule.rule), method) for rule in app.url_map.iter_rules()
              for method in rule.methods - AUTOMATIC_METHODS}
    documented = operations(spec_dict())
    assert routes - documented == set(), "routes missing from openapi.yaml"
    assert documented - routes == set(), "operations in openapi.yaml without a route"


def test_every_operation_is_described() -> None:
    ids = []
    for path, item in spec_dict()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            ids.append(operation["operationId"])
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)
            assert "500" in operation["responses"], (method, path)
    assert len(ids) == len(set(ids))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec_dict()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_every_error_response_is_a_problem() -> None:
    for path, item in spec_dict()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation["responses"].items():
                response = _resolve(response)
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
                    assert response["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"}
                if status == "503":
                    assert "Retry-After" in response["headers"], (method, path)


def test_every_parameter_is_described() -> None:
    for path, item in spec_dict()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS and method != "parameters":
                continue
            params = operation if method == "parameters" else operation.get("parameters", [])
            for param in params:
                param = _resolve(param)
                assert param.get("description") or param["in"] == "path" and param["name"] == "name", \
                    (method, path, param["name"])


def _schema_classes() -> set[type[Schema]]:
    return {obj for module in SCHEMA_MODULES for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, Schema) and obj is not Schema and obj.__module__ == module.__name__}


def test_every_marshmallow_schema_is_mapped_to_the_contract() -> None:
    mapped = set(OUTPUT_SCHEMAS) | set(BODY_SCHEMAS) | set(QUERY_SCHEMAS) | ABSTRACT_SCHEMAS
    assert _schema_classes() - mapped == set(), "add the new schema to openapi.yaml and to this test"


#: Response fields left out, not null, when they do not apply: ``evidence``
#: only with ``explain`` (docs/api.md).
OPTIONAL_OUTPUT_FIELDS = {"evidence"}


@pytest.mark.parametrize("schema_class", list(OUTPUT_SCHEMAS), ids=lambda c: c.__name__)
def test_output_schema_fields_match_the_component(schema_class: type[Schema]) -> None:
    component = spec_dict()["components"]["schemas"][OUTPUT_SCHEMAS[schema_class]]
    dumped = {field.data_key or name for name, field in schema_class().dump_fields.items()}
    assert dumped == set(component["properties"])
    assert set(component["required"]) == dumped - OPTIONAL_OUTPUT_FIELDS, \
        "every field is always present in responses (but those left out on purpose)"
    assert component["additionalProperties"] is False


@pytest.mark.parametrize("schema_class", list(BODY_SCHEMAS), ids=lambda c: c.__name__)
def test_body_schema_fields_match_the_component(schema_class: type[Schema]) -> None:
    components = [spec_dict()["components"]["schemas"][name] for name in BODY_SCHEMAS[schema_class]]
    loaded = {field.data_key or name: field for name, field in schema_class().load_fields.items()}
    assert set(loaded) == set().union(*(c["properties"] for c in components))
    always = set.intersection(*(set(c.get("required", [])) for c in components))
    assert {k for k, f in loaded.items() if f.required} == always
    assert all(c["additionalProperties"] is False for c in components)


@pytest.mark.parametrize("schema_class", list(QUERY_SCHEMAS), ids=lambda c: c.__name__)
def test_query_schema_fields_match_the_parameters(schema_class: type[Schema]) -> None:
    path, method = QUERY_SCHEMAS[schema_class]
    params = [_resolve(p) for p in spec_dict()["paths"][path][method].get("parameters", [])]
    loaded = {field.data_key or name: field for name, field in schema_class().load_fields.items()}
    assert set(loaded) == {p["name"] for p in params if p["in"] == "query"}
    assert {k for k, f in loaded.items() if f.required} == {p["name"] for p in params if p.get("required")}


def test_every_component_schema_is_used() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    for name in spec_dict()["components"]["schemas"]:
        assert f'"#/components/schemas/{name}"' in text, f"unused component {name}"


def _inline(node: Any) -> Any:
    """The schema with every $ref replaced by its target (the spec has no cycles)."""
    if isinstance(node, dict):
        node = _resolve(node) if "$ref" in node else node
        return {key: _inline(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item) for item in node]
    return node


def _examples() -> list[tuple[str, Any, dict[str, Any]]]:
    """(where, example, schema) for every example of a body or response."""
    found = []
    for path, item in spec_dict()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, _resolve(r)) for status, r in operation["responses"].items()]
            for where, body in bodies:
                for media in body.get("content", {}).values():
                    named = [e["value"] for e in media.get("examples", {}).values()]
                    for example in ([media["example"]] if "example" in media else []) + named:
                        found.append((f"{method.upper()} {path} {where}", example, media["schema"]))
    return found


def test_every_example_matches_its_schema() -> None:
    examples = _examples()
    assert len(examples) >= 15
    for where, example, schema in examples:
        errors = list(OAS30Validator(_inline(schema), format_checker=OAS30Validator.FORMAT_CHECKER)
                      .iter_errors(example))
        assert not errors, (where, [e.message for e in errors][:3])


def test_every_path_is_in_the_api_guide() -> None:
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for path, method in operations(spec_dict()):
        if path.startswith("/docs/assets"):
            continue
        assert f"{method} {path}" in guide, f"docs/api.md does not mention {method} {path}"


def test_served_spec_is_the_checked_in_file(client) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert response.get_data(as_text=True) == SPEC_PATH.read_text(encoding="utf-8")
    assert client.get("/openapi.json").get_json() == spec_dict()


def test_defaults_in_the_spec_match_the_app_config(app) -> None:
    params = spec_dict()["components"]["parameters"]
    assert params["Q"]["schema"]["maxLength"] == app.config["MAX_QUERY_LENGTH"]
    batch = spec_dict()["components"]["schemas"]["ArticleBatch"]["properties"]["articles"]
    assert batch["maxItems"] == app.config["MAX_BATCH_ARTICLES"]
    assert str(app.config["MAX_PAGE_SIZE"]) in params["Size"]["description"]
