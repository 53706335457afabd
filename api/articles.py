"""``/v1/articles``: list, read, add (through the ingest pipeline), delete. Its schemas
are in ``api/articles_schemas.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app, request, url_for
from flask.typing import ResponseReturnValue

from api.articles_schemas import ArticleListSchema, ArticleSchema, IngestResultSchema, load_articles
from api.auth import requires_read_key, requires_write_key
from api.common_schemas import ListingArgs, NoArgs, load_query_args
from api.errors import Problem, validation_problem
from api.responses import no_content
from api.state import get_store
from claimlookup.model import WriteStatus
from claimlookup.pipeline import ArticleRecord, InvalidArticle, ingest_one
from claimlookup.store import Store
from claimlookup.store.base import StoreError

bp = Blueprint("articles", __name__)

# Ids may be URLs (see docs/architecture.md), hence the path converter.
ARTICLE = "/v1/articles/<path:article_id>"


def literal_reports_suffix() -> bool:
    """Whether the request path ends in a literal ``/reports`` (the reports of
    an article) rather than ``%2Freports`` (the end of an article id such as
    ``https://example.org/x/reports``, sent with its slash encoded). Routing
    sees decoded paths; only the raw request URI (gunicorn's ``RAW_URI``,
    werkzeug's ``REQUEST_URI``) tells them apart. Without one, literal."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    return not raw or raw.split("?", 1)[0].endswith("/reports")


@bp.get("/v1/articles")
@requires_read_key
def list_articles() -> ResponseReturnValue:
    listing = load_query_args(ListingArgs(), request.args)
    page = get_store().search(listing)
    return ArticleListSchema().dump((listing, page))


@bp.post("/v1/articles")
@requires_write_key
def add_articles() -> ResponseReturnValue:
    load_query_args(NoArgs(), request.args)
    body = request.get_json()  # 415 if not JSON, 400 if malformed
    records = load_articles(body)
    result = index_articles(get_store(), records)
    if result.rejected == len(records):
        raise validation_problem(result.problems(batch="articles" in body), "No article could be indexed.")
    headers = {}
    if len(records) == 1 and result.new:
        location = url_for("articles.get_article", article_id=result.results[0].id)
        if location.endswith("/reports"):  # the article, not its reports (see literal_reports_suffix)
            location = location[: -len("/reports")] + "%2Freports"
        headers["Location"] = location
    return IngestResultSchema().dump(result), 201 if result.new else 200, headers


@bp.get(ARTICLE)
@requires_read_key
def get_article(article_id: str) -> ResponseReturnValue:
    load_query_args(NoArgs(), request.args)
    return ArticleSchema().dump(get_store().get_article(article_id))


@bp.delete(ARTICLE)
@requires_write_key
def delete_article(article_id: str) -> ResponseReturnValue:
    load_query_args(NoArgs(), request.args)
    if article_id.endswith("/reports") and literal_reports_suffix():
        # The reports of an article are read-only; an id ending in /reports is sent as ...%2Freports.
        raise Problem(405, "Method Not Allowed", "The reports of an article can only be read (GET). To delete an "
                      "article whose id ends in '/reports', send that slash encoded: '%2Freports'.",
                      headers={"Allow": "GET, HEAD, OPTIONS"})
    get_store().delete_article(article_id)
    return no_content()


# --- indexing: one pipeline run per article, so each gets its own outcome -------


@dataclass(slots=True)
class IngestOutcome:
    index: int
    status: str  # new | updated | unchanged | rejected
    id: str | None = None
    sentences: int = 0
    entities: int = 0
    problem: str | None = None


@dataclass(slots=True)
class IngestResult:
    results: list[IngestOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    new = property(lambda self: self.count("new"))
    updated = property(lambda self: self.count("updated"))
    unchanged = property(lambda self: self.count("unchanged"))
    rejected = property(lambda self: self.count("rejected"))

    def problems(self, batch: bool) -> dict[str, list[str]]:
        return {f"articles.{r.index}" if batch else "_body": [r.problem or ""]
                for r in self.results if r.status == "rejected"}


def index_articles(store: Store, records: list[ArticleRecord]) -> IngestResult:
    """Index records in order with the indexer's pipeline (``ingest_one``):
    clean, analyse, embed, write. An article that cannot be indexed is
    rejected with the pipeline's reason; the others are still indexed. A
    later article with the id of an earlier one replaces it.

    If the store fails on an article after earlier ones were written, the
    answer still says what was stored: that article and every later one are
    rejected as not stored (retry them); each article is written in its own
    transaction, so none is half-written. A failure before anything was
    stored propagates (503)."""
    result = IngestResult()
    for index, record in enumerate(records):
        try:
            outcome = ingest_one(store, record)
        except InvalidArticle as e:  # the id it was sent with, if any (else the pipeline made none)
            result.results.append(IngestOutcome(index, "rejected", id=record.id, problem=str(e)))
            continue
        except StoreError as e:
            if not any(r.status != "rejected" for r in result.results):
                raise
            current_app.logger.warning("store failed in a batch at article %d: %s", index, e)
            problem = f"Not stored: the store failed ({type(e).__name__}); send this article again."
            result.results += [IngestOutcome(i, "rejected", id=records[i].id, problem=problem)
                               for i in range(index, len(records))]
            break
        status = WriteStatus(outcome.status).value
        result.results.append(IngestOutcome(index, status, outcome.article_id, outcome.sentences, outcome.entities))
    return result
