"""``GET /v1/entities`` and ``GET /v1/sources``: what the archive knows about,
and the schemas of their query string and lists."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from api.auth import requires_read_key
from api.common_schemas import MAX_FILTER_CHARS, NoArgs, StrictSchema, load_query_args
from api.state import get_store
from claimlookup.nlp import ENTITY_LABELS, spellings_of

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


# --- schemas ---------------------------------------------------------------------


class EntityArgs(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=MAX_FILTER_CHARS))
    type = fields.String(load_default=None, validate=validate.OneOf(sorted(ENTITY_LABELS)))  # the NLP's labels
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class EntityCountSchema(Schema):
    key = fields.String()
    name = fields.String()
    label = fields.String()
    articles = fields.Integer()
    #: Other spellings and acronyms of the entity that its key gathers
    #: (claimlookup.nlp.spellings); [] for most entities.
    variants = fields.Function(lambda entity: spellings_of(entity.key))


class SourceCountSchema(Schema):
    source = fields.String()
    articles = fields.Integer()
    first_published = fields.Date(allow_none=True)
    last_published = fields.Date(allow_none=True)
