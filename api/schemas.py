"""Marshmallow schemas: one loads each request, one dumps each response.

Input schemas turn query strings and JSON bodies into the domain's request
dataclasses (``SearchRequest``, ``LookupRequest``, ...); output schemas turn
domain dataclasses into the JSON that ``openapi.yaml`` documents. Unknown
fields and query parameters are rejected (422), so a typo such as
``sorce=`` is reported instead of silently ignored.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import current_app
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates, validates_schema
from werkzeug.datastructures import MultiDict

from claimlookup.lookup import MAX_LIMIT, SCAN_MIN_SCORE, LookupRequest
from claimlookup.model import Agreement, Article, ClaimStance, Filters, Frame, SearchRequest
from claimlookup.nlp import ENTITY_LABELS
from claimlookup.pipeline import MAX_BODY_CHARS, MAX_ID_CHARS, MAX_TITLE_CHARS, ArticleRecord, Origin
from claimlookup.query import InvalidQuery, parse_query
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


def _config(name: str) -> Any:
    return current_app.config[name]


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


def _filter_list(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(1, MAX_FILTER_CHARS)),
                       validate=validate.Length(max=MAX_FILTER_VALUES), load_default=list, **kwargs)


# --- input: search and listing ----------------------------------------------


class ListingArgs(StrictSchema):
    """Filters and paging shared by ``GET /v1/articles`` and ``GET /v1/search``."""

    source = _filter_list()
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    entity = _filter_list()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_RESULT_WINDOW))
    size = fields.Integer(load_default=10, validate=validate.Range(min=1))

    @validates_schema
    def _check_window(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("'from' is after 'to'.", "from")
        page, size = data.get("page", 1), min(data.get("size", 10), _config("MAX_PAGE_SIZE"))
        if page * size > MAX_RESULT_WINDOW:
            raise ValidationError(
                f"page * size must stay within the first {MAX_RESULT_WINDOW} results; narrow the query.",
                "page")

    def _request(self, data: dict[str, Any], **overrides: Any) -> SearchRequest:
        filters = Filters(sources=tuple(data["source"]), date_from=data["date_from"],
                          date_to=data["date_to"], entities=tuple(e.lower() for e in data["entity"]))
        size = min(data["size"], _config("MAX_PAGE_SIZE"))
        return SearchRequest(filters=filters, page=data["page"], size=size, **overrides)

    @post_load
    def _to_request(self, data: dict[str, Any], **kwargs: Any) -> SearchRequest:
        return self._request(data, sort="date")


class SearchArgs(ListingArgs):
    q = fields.String(required=True)
    level = fields.String(load_default="article", validate=validate.OneOf(["article", "sentence"]))
    sort = fields.String(load_default="relevance", validate=validate.OneOf(["relevance", "date"]))

    @validates("q")
    def _check_q(self, value: str, **kwargs: Any) -> None:
        limit = _config("MAX_QUERY_LENGTH")
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
        return self._request(data, query=parse_query(data["q"]), level=data["level"], sort=data["sort"])


class EntityArgs(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=MAX_FILTER_CHARS))
    type = fields.String(load_default=None, validate=validate.OneOf(sorted(ENTITY_LABELS)))  # the NLP's labels
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class NoArgs(StrictSchema):
    """For endpoints that take no query parameters: any parameter is a typo."""


# --- input: articles to index ------------------------------------------------------


def _has_words(value: str) -> None:
    if not any(ch.isalnum() for ch in value):
        raise ValidationError("The body has no words to index (no letter or digit).")


def _optional_text(max_chars: int) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=max_chars))


class ArticleIn(StrictSchema):
    """One article to index. Without ``title``, ``body`` is a whole document
    and its first line (after boilerplate) becomes the title. Content rules
    (empty after cleaning, non-English, bad URL) are the pipeline's: such an
    article is rejected with its reason, not failed here."""

    id = _optional_text(MAX_ID_CHARS)
    url = _optional_text(2048)
    title = _optional_text(MAX_TITLE_CHARS)
    body = fields.String(required=True, validate=[validate.Length(1, MAX_BODY_CHARS), _has_words])
    source = _optional_text(MAX_FILTER_CHARS)
    published = fields.Date(load_default=None, allow_none=True)
    language = fields.String(load_default="en", validate=validate.Length(1, 35))

    @post_load
    def _to_record(self, data: dict[str, Any], **kwargs: Any) -> ArticleRecord:
        return ArticleRecord(**data, origin=Origin("request"))


class ArticleBatchIn(StrictSchema):
    articles = fields.List(fields.Nested(ArticleIn), required=True)

    @validates("articles")
    def _check_size(self, value: list[Any], **kwargs: Any) -> None:
        limit = _config("MAX_BATCH_ARTICLES")
        if not 1 <= len(value) <= limit:
            raise ValidationError(f"Give 1 to {limit} articles.")


def load_articles(body: Any) -> list[ArticleRecord]:
    """The records of a POST body: one article object or ``{"articles": [...]}``."""
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Expected a JSON object: one article or {\"articles\": [...]}."]})
    if "articles" in body:
        return ArticleBatchIn().load(body)["articles"]
    return [ArticleIn().load(body)]


# --- input: claim lookup and scan --------------------------------------------------------

#: A claim is a sentence, a tweet or a selection; longer texts are for scan.
MAX_CLAIM_CHARS = 2_000
#: A whole article to scan.
MAX_SCAN_CHARS = 100_000


def load_json_object(schema: Schema, body: Any) -> Any:
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Expected a JSON object."]})
    return schema.load(body)


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

    source = _filter_list()
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)

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
    explain = fields.Boolean(load_default=False)

    @post_load
    def _to_request(self, data: dict[str, Any], **kwargs: Any) -> LookupRequest:
        exclude = (data["exclude_article"],) if data["exclude_article"] else ()
        return LookupRequest(text=data["text"], filters=_filters(data, exclude), limit=data["limit"],
                             min_score=data["min_score"], explain=data["explain"])


class LookupArgs(LookupBody):
    """``GET /v1/claims/lookup``: the same as query parameters."""

    limit = _limit(10, strict=False)


class ScanBody(_ReportFilters):
    """``POST /v1/claims/scan``: exactly one of ``text`` or ``article_id``;
    the keyword arguments of ``lookup.scan``."""

    text = fields.String(load_default=None, validate=validate.Length(1, MAX_SCAN_CHARS))
    article_id = fields.String(load_default=None, validate=validate.Length(1, MAX_ID_CHARS))
    limit = _limit(3, strict=True)
    min_score = _min_score(SCAN_MIN_SCORE)

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("text") is None) == (data.get("article_id") is None):
            raise ValidationError("Give exactly one of 'text' or 'article_id'.", "_body")

    @post_load
    def _to_kwargs(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"text": data["text"], "article_id": data["article_id"], "filters": _filters(data),
                "limit_per_claim": data["limit"], "min_score": data["min_score"]}


class ReportsArgs(_ReportFilters):
    """``GET /v1/articles/{id}/reports``: a scan of a stored article; the
    keyword arguments of ``lookup.scan`` but the id (it is in the path)."""

    limit = _limit(3, strict=False)
    min_score = _min_score(SCAN_MIN_SCORE)

    @post_load
    def _to_kwargs(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"filters": _filters(data), "limit_per_claim": data["limit"], "min_score": data["min_score"]}


# --- output -------------------------------------------------------------------


class HitSchema(Schema):
    article_id = fields.String()
    title = fields.String()
    source = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    url = fields.String(allow_none=True)
    score = fields.Float()
    snippet = fields.String()
    sentence_position = fields.Integer(allow_none=True)


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


class _PageSchema(Schema):
    """``{total, page, size, facets}`` of a ``(SearchRequest, SearchPage)`` pair."""

    total = fields.Function(lambda pair: pair[1].total)
    page = fields.Function(lambda pair: pair[0].page)
    size = fields.Function(lambda pair: pair[0].size)
    facets = fields.Function(lambda pair: FacetsSchema().dump(pair[1].facets))


class SearchPageSchema(_PageSchema):
    hits = fields.Function(lambda pair: HitSchema(many=True).dump(pair[1].hits))


class ArticleSummarySchema(Schema):
    id = fields.String(attribute="article_id")
    title = fields.String()
    source = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    url = fields.String(allow_none=True)


class ArticleListSchema(_PageSchema):
    articles = fields.Function(lambda pair: ArticleSummarySchema(many=True).dump(pair[1].hits))


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
    start = fields.Integer()
    end = fields.Integer()


class SentenceSchema(Schema):
    position = fields.Integer()
    text = fields.String()
    start = fields.Integer()
    end = fields.Integer()
    frame = fields.Enum(Frame, by_value=True, attribute="stance")
    speaker = fields.String(allow_none=True)
    entities = fields.List(fields.Nested(EntityMentionSchema))
    quantities = fields.List(fields.Nested(QuantitySchema))


def _article_entities(article: Article) -> list[dict[str, Any]]:
    """Entities of the whole article by key: most frequent name, mentions."""
    names: dict[str, Counter[str]] = {}
    labels: dict[str, str] = {}
    for mention in article.entities:
        names.setdefault(mention.key, Counter())[mention.text] += 1
        labels.setdefault(mention.key, mention.label)
    rows = [{"key": key, "name": counts.most_common(1)[0][0], "label": labels[key],
             "mentions": sum(counts.values())} for key, counts in names.items()]
    return sorted(rows, key=lambda r: (-r["mentions"], r["key"]))


class ArticleSchema(Schema):
    id = fields.String()
    title = fields.String()
    body = fields.String()
    source = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    language = fields.String()
    content_hash = fields.String()
    sentences = fields.List(fields.Nested(SentenceSchema))
    entities = fields.Function(_article_entities)


class EntityCountSchema(Schema):
    key = fields.String()
    name = fields.String()
    label = fields.String()
    articles = fields.Integer()


class SourceCountSchema(Schema):
    source = fields.String()
    articles = fields.Integer()
    first_published = fields.Date(allow_none=True)
    last_published = fields.Date(allow_none=True)


class IngestOutcomeSchema(Schema):
    index = fields.Integer()
    id = fields.String(allow_none=True)
    status = fields.String()
    sentences = fields.Integer()
    entities = fields.Integer()
    problem = fields.String(allow_none=True)


class IngestResultSchema(Schema):
    new = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    results = fields.List(fields.Nested(IngestOutcomeSchema))


# --- output: claim lookup ----------------------------------------------------------------


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
    start = fields.Integer(attribute="quantity.start")
    end = fields.Integer(attribute="quantity.end")
    agreement = fields.Enum(Agreement, by_value=True)


class ReportSentenceSchema(Schema):
    position = fields.Integer()
    text = fields.String()
    highlighted = fields.String()
    score = fields.Float()
    stance = fields.Enum(ClaimStance, by_value=True)
    frame = fields.Enum(Frame, by_value=True)
    attributed_to = fields.String(allow_none=True)
    quantities = fields.List(fields.Nested(ReportQuantitySchema))
    evidence = fields.Raw(allow_none=True)


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
    evidence = fields.Raw(allow_none=True)


class FigureValueSchema(Schema):
    value = fields.Float()
    outlets = fields.List(fields.String())


class FigureRowSchema(Schema):
    counts = fields.String()
    event = fields.String()
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
    reports = fields.List(fields.Nested(ReportSchema))


class ScanResultSchema(Schema):
    sentences = fields.List(fields.Nested(ScannedSentenceSchema))
