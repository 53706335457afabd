"""Re-exports only, for tests/test_openapi.py and tests/test_constants.py,
which import ``api.schemas``: the schemas live beside their blueprints
(``api/common_schemas.py``, ``api/search.py``, ``api/catalog.py``,
``api/articles_schemas.py``, ``api/claims_schemas.py``). Import from there;
delete this module once those tests do."""

from __future__ import annotations

from api.articles_schemas import (
    ArticleBatchIn,
    ArticleIn,
    ArticleListSchema,
    ArticleSchema,
    ArticleSummarySchema,
    IngestOutcomeSchema,
    IngestResultSchema,
    SentenceSchema,
)
from api.catalog import EntityArgs, EntityCountSchema, SourceCountSchema
from api.claims_schemas import (
    ClaimViewSchema,
    CopySchema,
    FigureRowSchema,
    FigureValueSchema,
    LookupArgs,
    LookupBody,
    LookupResultSchema,
    ReportQuantitySchema,
    ReportsArgs,
    ReportSchema,
    ReportSentenceSchema,
    ScanBody,
    ScannedSentenceSchema,
    ScanResultSchema,
    SummarySchema,
    _ReportFilters,
)
from api.common_schemas import (
    EntityFacetSchema,
    EntityMentionSchema,
    FacetCountSchema,
    FacetsSchema,
    ListingArgs,
    NoArgs,
    QuantitySchema,
    StrictSchema,
)
from api.common_schemas import PageSchema as _PageSchema
from api.search import HitSchema, SearchArgs, SearchPageSchema

__all__ = [
    "ArticleBatchIn", "ArticleIn", "ArticleListSchema", "ArticleSchema", "ArticleSummarySchema", "ClaimViewSchema",
    "CopySchema", "EntityArgs", "EntityCountSchema", "EntityFacetSchema", "EntityMentionSchema", "FacetCountSchema",
    "FacetsSchema", "FigureRowSchema", "FigureValueSchema", "HitSchema", "IngestOutcomeSchema", "IngestResultSchema",
    "ListingArgs", "LookupArgs", "LookupBody", "LookupResultSchema", "NoArgs", "QuantitySchema",
    "ReportQuantitySchema", "ReportSchema", "ReportSentenceSchema", "ReportsArgs", "ScanBody", "ScanResultSchema",
    "ScannedSentenceSchema", "SearchArgs", "SearchPageSchema", "SentenceSchema", "SourceCountSchema",
    "StrictSchema", "SummarySchema", "_PageSchema", "_ReportFilters",
]
