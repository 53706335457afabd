"""The HTTP API: a Flask app factory (``gunicorn 'api:create_app()'``).

Configuration: defaults below, then ``CLAIMLOOKUP_*`` environment variables
(``app.config.from_prefixed_env("CLAIMLOOKUP")``: ``CLAIMLOOKUP_STORE_URL``,
``CLAIMLOOKUP_API_KEY``, ...; values are parsed as JSON where they can be, so
``CLAIMLOOKUP_MAX_PAGE_SIZE=50`` is a number), then ``test_config``.
See docs/api.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"

DEFAULTS: dict[str, Any] = {
    "STORE_URL": "sqlite:///data/claimlookup.db",
    "API_KEY": None,  # writes are refused until it is set
    "READ_API_KEY": None,  # reads are open until it is set
    "CORS_ORIGINS": "",  # comma list or "*"
    "MAX_PAGE_SIZE": 100,
    "MAX_QUERY_LENGTH": 500,  # characters of q
    "MAX_QUERY_STRING": 3900,  # bytes; gunicorn refuses request lines over 4094
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "MAX_BATCH_ARTICLES": 100,
    "RETRY_AFTER": 10,  # seconds, sent with every 503
}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, store state, error handlers, CORS, blueprints."""
    from api import articles, catalog, claims, cors, docs, errors, gcpolicy, health, limits, search, state

    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("CLAIMLOOKUP")
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Article ids may be URLs: keep "//" in paths as sent (no redirect).
    app.url_map.merge_slashes = False

    state.init_state(app, Path(app.config.get("SPEC_PATH", SPEC_PATH)))
    errors.register_error_handlers(app)
    limits.init_limits(app)
    cors.init_cors(app)
    gcpolicy.init_gc_policy(app, int(app.config.get("GC_FULL_EVERY", gcpolicy.FULL_EVERY)))
    for blueprint in (search.bp, articles.bp, claims.bp, catalog.bp, health.bp, docs.bp):
        app.register_blueprint(blueprint)
    return app
