"""``GET /v1/search``: full-text search with filters, highlights and facets,
and the schemas that load its query string and dump its page of hits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from api.auth import requires_read_key
from api.common_schemas import ListingArgs, PageSchema, QueryBoolean, config_value, load_query_args
from api.state import get_store
from claimlookup.model import SearchRequest
from claimlookup.query import InvalidQuery, parse_query, with_spellings

bp = Blueprint("search", __name__)


@bp.get("/v1/search")
@requires_read_key
def search() -> ResponseReturnValue:
    args = SearchArgs()
    search_request = load_query_args(args, request.args)
    store = get_store()
    if args.spellings:
        search_request = replace(search_request, query=with_spellings(search_request.query, store.entity_spellings))
    page = store.search(search_request)
    return SearchPageSchema().dump((search_request, page))


# --- schemas ---------------------------------------------------------------------


class SearchArgs(ListingArgs):
    #: Set by loading (``spellings=``): the view expands the query's names with the store's spellings.
    spellings: bool = True
    q = fields.String(required=True)
    level = fields.String(load_default="article", validate=validate.OneOf(["article", "sentence"]))
    sort = fields.String(load_default="relevance", validate=validate.OneOf(["relevance", "date"]))
    spellings_ = QueryBoolean(load_default=True, data_key="spellings", attribute="spellings")

    @validates("q")
    def _check_q(self, value: str, **kwargs: Any) -> None:
        limit = config_value("MAX_QUERY_LENGTH")
        if len(value) > limit:
            raise ValidationError(f"At most {limit} characters.")
        if not value.strip():
            raise ValidationError("Type something to search for (use GET /v1/articles to list).")
        try:
            parse_query(value)
        except InvalidQuery as e:
            raise ValidationError(str(e)) from e

    @post_load
    def _to_request(self, data: dict[str, Any], **kwargs: Any) -> SearchRequest:
        self.spellings = data["spellings"]  # read by the view: a store call, not part of the request
        return self._request(data, query=parse_query(data["q"]), level=data["level"], sort=data["sort"])


class HitSchema(Schema):
    article_id = fields.String()
    title = fields.String()
    source = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    url = fields.String(allow_none=True)
    score = fields.Float()
    snippet = fields.String()
    sentence_position = fields.Integer(allow_none=True)


class SearchPageSchema(PageSchema):
    hits = fields.Function(lambda pair: HitSchema(many=True).dump(pair[1].hits))
