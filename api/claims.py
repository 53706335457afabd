"""``/v1/claims``: other reports of a claim, and a scan of a whole article.

Lookups are reads (a POST only because a claim can be long): they need the
read key when one is configured, never the write key. The schemas are in
``api/claims_schemas.py``.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from api.articles import get_article, literal_reports_suffix
from api.auth import requires_read_key
from api.claims_schemas import (
    LookupArgs,
    LookupBody,
    LookupResultSchema,
    ReportsArgs,
    ScanBody,
    ScanResultSchema,
    load_json_object,
)
from api.common_schemas import NoArgs, load_query_args
from api.state import get_store
from claimlookup.lookup import find_reports, scan

bp = Blueprint("claims", __name__)


@bp.post("/v1/claims/lookup")
@requires_read_key
def lookup_claim() -> ResponseReturnValue:
    load_query_args(NoArgs(), request.args)
    lookup = load_json_object(LookupBody(), request.get_json())
    return LookupResultSchema().dump(find_reports(get_store(), lookup))


@bp.get("/v1/claims/lookup")
@requires_read_key
def lookup_claim_by_query() -> ResponseReturnValue:
    lookup = load_query_args(LookupArgs(), request.args)
    return LookupResultSchema().dump(find_reports(get_store(), lookup))


@bp.post("/v1/claims/scan")
@requires_read_key
def scan_article() -> ResponseReturnValue:
    load_query_args(NoArgs(), request.args)
    options = load_json_object(ScanBody(), request.get_json())
    return ScanResultSchema().dump(scan(get_store(), **options))


@bp.get("/v1/articles/<path:article_id>/reports")
@requires_read_key
def article_reports(article_id: str) -> ResponseReturnValue:
    if not literal_reports_suffix():  # ".../x%2Freports": the article whose id ends in /reports
        return get_article(article_id + "/reports")
    options = load_query_args(ReportsArgs(), request.args)
    return ScanResultSchema().dump(scan(get_store(), article_id=article_id, **options))
