"""Marshmallow schemas of ``/v1/articles`` (``api/articles.py``): the
articles a POST indexes, and the listing, article and ingest results it
answers with."""

from __future__ import annotations

from collections import Counter
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from api.common_schemas import (
    MAX_FILTER_CHARS,
    EntityMentionSchema,
    PageSchema,
    QuantitySchema,
    StrictSchema,
    config_value,
)
from claimlookup.model import Article, Frame
from claimlookup.pipeline import MAX_BODY_CHARS, MAX_ID_CHARS, MAX_TITLE_CHARS, ArticleRecord, Origin

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

    article_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_ID_CHARS),
                               attribute="id")
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
        limit = config_value("MAX_BATCH_ARTICLES")
        if not 1 <= len(value) <= limit:
            raise ValidationError(f"Give 1 to {limit} articles.")


def load_articles(body: Any) -> list[ArticleRecord]:
    """The records of a POST body: one article object or ``{"articles": [...]}``."""
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Expected a JSON object: one article or {\"articles\": [...]}."]})
    if "articles" in body:
        return ArticleBatchIn().load(body)["articles"]
    return [ArticleIn().load(body)]


# --- output ----------------------------------------------------------------------


class ArticleSummarySchema(Schema):
    article_id = fields.String()
    title = fields.String()
    source = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    url = fields.String(allow_none=True)


class ArticleListSchema(PageSchema):
    articles = fields.Function(lambda pair: ArticleSummarySchema(many=True).dump(pair[1].hits))


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
    article_id = fields.String(attribute="id")
    title = fields.String()
    body = fields.String()
    source = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    published = fields.Date(allow_none=True)
    language = fields.String()
    content_hash = fields.String()
    sentences = fields.List(fields.Nested(SentenceSchema))
    entities = fields.Function(_article_entities)


class IngestOutcomeSchema(Schema):
    index = fields.Integer()
    article_id = fields.String(attribute="id", allow_none=True)
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
