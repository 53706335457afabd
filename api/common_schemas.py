"""Marshmallow schemas and helpers shared by several blueprints.

Each blueprint's own schemas sit beside it (``api/search.py``,
``api/catalog.py``, ``api/articles_schemas.py``, ``api/claims_schemas.py``):
input schemas turn query strings and JSON bodies into the domain's request
dataclasses (``SearchRequest``, ``LookupRequest``, ...); output schemas turn
domain dataclasses into the JSON that ``openapi.yaml`` documents. Here: the
query-string loader, the strict base schema (unknown fields and query
parameters are rejected, 422, so a typo such as ``sorce=`` is reported instead
of silently ignored), the listing filters and page envelope of
``GET /v1/articles`` and ``GET /v1/search``, and the entity and quantity
schemas of articles and claims.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema
from werkzeug.datastructures import MultiDict

from claimlookup.model import Filters, SearchRequest
from claimlookup.store.base import MAX_RESULT_WINDOW

MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 200


def load_query_args(schema: Schema, args: MultiDict[str, str]) -> Any:
    """Load a query string: repeatable parameters (List fields) as lists, every
    other parameter at most once."""
    by_key = {f.data_key or name: f for name, f in schema.load_fields.items()}
    data: dict[str, Any] = {}
    repeated: dict[str, list[str]] = {}
    for key in args:
        values = args.getlist(key)
        if isinstance(by_key.get(key), fields.List):
            data[key] = values
        elif len(values) > 1:
            repeated[key] = ["Give this parameter once."]
        else:
            data[key] = values[0]
    if repeated:
        raise ValidationError(repeated)
    return schema.load(data)


def config_value(name: str) -> Any:
    """The app's config key ``name`` (limits such as ``MAX_PAGE_SIZE``)."""
    return current_app.config[name]


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class JSONBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing else: marshmallow's Boolean also
    takes 0, 1, "yes"... (and ``0 in {False}`` is true in Python, so its
    ``truthy``/``falsy`` sets cannot exclude them)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid")
        return value


class QueryBoolean(JSONBoolean):
    """A boolean query parameter as OpenAPI serialises one: ``true`` or ``false``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value not in ("true", "false"):
            raise self.make_error("invalid")
        return value == "true"


def filter_list(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(1, MAX_FILTER_CHARS)),
                       validate=validate.Length(max=MAX_FILTER_VALUES), load_default=list, **kwargs)


class NoArgs(StrictSchema):
    """For endpoints that take no query parameters: any parameter is a typo."""


# --- listing and search: filters, paging, facets ------------------------------------


class ListingArgs(StrictSchema):
    """Filters and paging shared by ``GET /v1/articles`` and ``GET /v1/search``."""

    source = filter_list()
    date_from = fields.Date(data_key="from", load_default=None, allow_none=False)
    date_to = fields.Date(data_key="to", load_default=None, allow_none=False)
    entity = filter_list()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_RESULT_WINDOW))
    size = fields.Integer(load_default=10, validate=validate.Range(min=1))

    @validates_schema
    def _check_window(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("'from' is after 'to'.", "from")
        page, size = data.get("page", 1), min(data.get("size", 10), config_value("MAX_PAGE_SIZE"))
        if page * size > MAX_RESULT_WINDOW:
            raise ValidationError(
                f"page * size must stay within the first {MAX_RESULT_WINDOW} results; narrow the query.",
                "page")

    def _request(self, data: dict[str, Any], **overrides: Any) -> SearchRequest:
        filters = Filters(sources=tuple(data["source"]), date_from=data["date_from"],
                          date_to=data["date_to"], entities=tuple(e.lower() for e in data["entity"]))
        size = min(data["size"], config_value("MAX_PAGE_SIZE"))
        return SearchRequest(filters=filters, page=data["page"], size=size, **overrides)

    @post_load
    def _to_request(self, data: dict[str, Any], **kwargs: Any) -> SearchRequest:
        return self._request(data, sort="date")


class FacetCountSchema(Schema):
    value = fields.String()
    count = fields.Integer()


class EntityFacetSchema(FacetCountSchema):
    label = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class FacetsSchema(Schema):
    sources = fields.List(fields.Nested(FacetCountSchema))
    entities = fields.List(fields.Nested(EntityFacetSchema))
    months = fields.List(fields.Nested(FacetCountSchema))
    entities_sample = fields.Integer(allow_none=True)


class PageSchema(Schema):
    """``{total, page, size, facets}`` of a ``(SearchRequest, SearchPage)`` pair."""

    total = fields.Function(lambda pair: pair[1].total)
    page = fields.Function(lambda pair: pair[0].page)
    size = fields.Function(lambda pair: pair[0].size)
    facets = fields.Function(lambda pair: FacetsSchema().dump(pair[1].facets))


# --- what the NLP finds in a text: articles' sentences and claims ----------------------------


class EntityMentionSchema(Schema):
    text = fields.String()
    label = fields.String()
    key = fields.String()
    start = fields.Integer()
    end = fields.Integer()


class QuantitySchema(Schema):
    value = fields.Float()
    text = fields.String()
    counts = fields.String()
    event = fields.String()
    qualifier = fields.String()
    scope = fields.String()
    start = fields.Integer()
    end = fields.Integer()
