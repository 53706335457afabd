"""``GET /v1/entities`` and ``GET /v1/sources``: what the archive knows about."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from api.auth import requires_read_key
from api.schemas import EntityArgs, EntityCountSchema, NoArgs, SourceCountSchema, load_query_args
from api.state import get_store

bp = Blueprint("catalog", __name__)


@bp.get("/v1/entities")
@requires_read_key
def entities() -> ResponseReturnValue:
    args = load_query_args(EntityArgs(), request.args)
    found = get_store().entities(prefix=args["q"], label=args["type"], limit=args["limit"])
    return {"entities": EntityCountSchema(many=True).dump(found)}


@bp.get("/v1/sources")
@requires_read_key
def sources() -> ResponseReturnValue:
    load_query_args(NoArgs(), request.args)
    return {"sources": SourceCountSchema(many=True).dump(get_store().sources())}
