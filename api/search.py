"""``GET /v1/search``: full-text search with filters, highlights and facets."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from api.auth import requires_read_key
from api.schemas import SearchArgs, SearchPageSchema, load_query_args
from api.state import get_store

bp = Blueprint("search", __name__)


@bp.get("/v1/search")
@requires_read_key
def search() -> ResponseReturnValue:
    search_request = load_query_args(SearchArgs(), request.args)
    page = get_store().search(search_request)
    return SearchPageSchema().dump((search_request, page))
