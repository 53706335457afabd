"""``/v1/articles``: list, read, add (through the ingest pipeline), delete."""

from __future__ import annotations

from flask import Blueprint, request

from api.auth import requires_read_key, requires_write_key
from api.schemas import ArticleListSchema, ArticleSchema, ListingArgs, NoArgs, load_query_args
from api.responses import no_content
from api.state import get_store

bp = Blueprint("articles", __name__)

# Ids may be URLs (see docs/architecture.md), hence the path converter.
ARTICLE = "/v1/articles/<path:article_id>"


@bp.get("/v1/articles")
@requires_read_key
def list_articles():  # type: ignore[no-untyped-def]
    listing = load_query_args(ListingArgs(), request.args)
    page = get_store().search(listing)
    return ArticleListSchema().dump((listing, page))


@bp.get(ARTICLE)
@requires_read_key
def get_article(article_id: str):  # type: ignore[no-untyped-def]
    load_query_args(NoArgs(), request.args)
    return ArticleSchema().dump(get_store().get_article(article_id))


@bp.delete(ARTICLE)
@requires_write_key
def delete_article(article_id: str):  # type: ignore[no-untyped-def]
    load_query_args(NoArgs(), request.args)
    get_store().delete_article(article_id)
    return no_content()
