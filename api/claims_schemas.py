"""Marshmallow schemas of ``/v1/claims`` and ``GET /v1/articles/{id}/reports``
(``api/claims.py``): the lookup and scan requests, loaded into the arguments
of ``claimlookup.lookup``, and the lookup and scan results."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, post_load, validate, validates_schema

from api.common_schemas import (
    EntityMentionSchema,
    JSONBoolean,
    QuantitySchema,
    QueryBoolean,
    StrictSchema,
    filter_list,
)
from claimlookup.lookup import MAX_LIMIT, SCAN_MIN_SCORE, LookupRequest
from claimlookup.model import Agreement, ClaimStance, Filters, Frame
from claimlookup.pipeline import MAX_ID_CHARS

#: A claim is a sentence, a tweet or a selection; longer texts are for scan.
MAX_CLAIM_CHARS = 2_000
#: A whole article to scan.
MAX_SCAN_CHARS = 100_000


def load_json_object(schema: Schema, body: Any) -> Any:
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Expected a JSON object."]})
    return schema.load(body)


# --- input: claim lookup and scan --------------------------------------------------------


def _filters(data: dict[str, Any], exclude: tuple[str, ...] = ()) -> Filters:
    return Filters(sources=tuple(data["source"]), date_from=data["date_from"], date_to=data["date_to"],
                   exclude_articles=exclude)


def _limit(default: int, strict: bool) -> fields.Integer:
    # JSON bodies take real integers only (no silent 2.5 -> 2); query strings are text by nature.
    return fields.Integer(strict=strict, load_default=default, validate=validate.Range(1, MAX_LIMIT))


def _min_score(default: float) -> fields.Float:
    return fields.Float(load_default=default, validate=validate.Range(0.0, 1.0))


class _ReportFilters(StrictSchema):
    """Which reports count: outlets and dates."""

    source = filter_list()
    # A date or absent: null is not a date (load_default=None would allow it).
    date_from = fields.Date(data_key="from", load_default=None, allow_none=False)
    date_to = fields.Date(data_key="to", load_default=None, allow_none=False)

    @validates_schema
    def _check_dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("'from' is after 'to'.", "from")


class LookupBody(_ReportFilters):
    """``POST /v1/claims/lookup``."""

    text = fields.String(required=True, validate=validate.Length(1, MAX_CLAIM_CHARS))
    exclude_article = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, MAX_ID_CHARS))
    limit = _limit(10, strict=True)
    min_score = _min_score(0.0)
    explain = JSONBoolean(load_default=False)

    @post_load
    def _to_request(self, data: dict[str, Any], **kwargs: Any) -> LookupRequest:
        exclude = (data["exclude_article"],) if data["exclude_article"] else ()
        return LookupRequest(text=data["text"], filters=_filters(data, exclude), limit=data["limit"],
                             min_score=data["min_score"], explain=data["explain"])


class LookupArgs(LookupBody):
    """``GET /v1/claims/lookup``: the same as query parameters."""

    limit = _limit(10, strict=False)
    explain = QueryBoolean(load_default=False)


class ScanBody(_ReportFilters):
    """``POST /v1/claims/scan``: exactly one of ``text`` or ``article_id``;
    the keyword arguments of ``lookup.scan``."""

    text = fields.String(load_default=None, allow_none=False, validate=validate.Length(1, MAX_SCAN_CHARS))
    article_id = fields.String(load_default=None, allow_none=False, validate=validate.Length(1, MAX_ID_CHARS))
    # The browser extension's page: its URL (an article indexed without an id has
    # its URL as id) and any article id never to report; the page's own text
    # already excludes its indexed copy (lookup.scan).
    url = fields.String(load_default=None, allow_none=False, validate=validate.Length(1, 2048))
    exclude_article = fields.String(load_default=None, allow_none=False, validate=validate.Length(1, MAX_ID_CHARS))
    limit = _limit(3, strict=True)
    min_score = _min_score(SCAN_MIN_SCORE)

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("text") is None) == (data.get("article_id") is None):
            raise ValidationError("Give exactly one of 'text' or 'article_id'.", "_body")

    @post_load
    def _to_kwargs(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        exclude = tuple(x for x in (data["exclude_article"], data["url"]) if x)
        return {"text": data["text"], "article_id": data["article_id"], "filters": _filters(data, exclude),
                "limit_per_claim": data["limit"], "min_score": data["min_score"]}


class ReportsArgs(_ReportFilters):
    """``GET /v1/articles/{id}/reports``: a scan of a stored article; the
    keyword arguments of ``lookup.scan`` but the id (it is in the path)."""

    limit = _limit(3, strict=False)
    min_score = _min_score(SCAN_MIN_SCORE)

    @post_load
    def _to_kwargs(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"filters": _filters(data), "limit_per_claim": data["limit"], "min_score": data["min_score"]}


# --- output: claim lookup and scan ---------------------------------------------------------


class ClaimViewSchema(Schema):
    text = fields.String()
    entities = fields.List(fields.Nested(EntityMentionSchema))
    quantities = fields.List(fields.Nested(QuantitySchema))


class ReportQuantitySchema(QuantitySchema):
    """A report's figure, flattened with how it compares with the claim's."""

    value = fields.Float(attribute="quantity.value")
    text = fields.String(attribute="quantity.text")
    counts = fields.String(attribute="quantity.counts")
    event = fields.String(attribute="quantity.event")
    qualifier = fields.String(attribute="quantity.qualifier")
    scope = fields.String(attribute="quantity.scope")
    start = fields.Integer(attribute="quantity.start")
    end = fields.Integer(attribute="quantity.end")
    agreement = fields.Enum(Agreement, by_value=True)


def _without_empty_evidence(schema: Schema, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """``evidence`` only with ``explain``: left out, not null, without it."""
    if data.get("evidence") is None:
        data.pop("evidence", None)
    return data


class ReportSentenceSchema(Schema):
    position = fields.Integer()
    text = fields.String()
    highlighted = fields.String()
    score = fields.Float()
    stance = fields.Enum(ClaimStance, by_value=True)
    frame = fields.Enum(Frame, by_value=True)
    attributed_to = fields.String(allow_none=True)
    quantities = fields.List(fields.Nested(ReportQuantitySchema))
    evidence = fields.Raw()

    _drop_empty_evidence = post_dump(_without_empty_evidence)


class CopySchema(Schema):
    article_id = fields.String()
    source = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    url = fields.String(allow_none=True)


class ReportSchema(Schema):
    article_id = fields.String()
    title = fields.String()
    source = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    url = fields.String(allow_none=True)
    score = fields.Float()
    stance = fields.Enum(ClaimStance, by_value=True)
    sentences = fields.List(fields.Nested(ReportSentenceSchema))
    copies = fields.List(fields.Nested(CopySchema))
    shared_entities = fields.List(fields.String())
    missing_entities = fields.List(fields.String())
    evidence = fields.Raw()

    _drop_empty_evidence = post_dump(_without_empty_evidence)


class FigureValueSchema(Schema):
    value = fields.Float()
    outlets = fields.List(fields.String())


class FigureRowSchema(Schema):
    counts = fields.String()
    event = fields.String()
    scope = fields.String()
    values = fields.List(fields.Nested(FigureValueSchema))


class SummarySchema(Schema):
    reports = fields.Integer()
    outlets = fields.Integer()
    stances = fields.Dict(keys=fields.String(), values=fields.Integer())
    figures = fields.List(fields.Nested(FigureRowSchema))


class LookupResultSchema(Schema):
    claim = fields.Nested(ClaimViewSchema)
    reports = fields.List(fields.Nested(ReportSchema))
    summary = fields.Nested(SummarySchema)


class ScannedSentenceSchema(Schema):
    position = fields.Integer()
    text = fields.String()
    reason = fields.String()
    context = fields.List(fields.String())
    reports = fields.List(fields.Nested(ReportSchema))


class SkippedSentenceSchema(Schema):
    position = fields.Integer()
    text = fields.String()
    reason = fields.String()
    rule = fields.String(allow_none=True)  # the boilerplate rule; null for the other reasons


class ScanResultSchema(Schema):
    sentences = fields.List(fields.Nested(ScannedSentenceSchema))
    truncated = fields.Function(lambda r: r.unchecked > 0)
    unchecked = fields.Integer()
    skipped = fields.List(fields.Nested(SkippedSentenceSchema))
