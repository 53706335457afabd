"""The HTTP API: a Flask app factory (``gunicorn 'api:create_app()'``).

Configuration: the settings of ``claimlookup.settings.Settings.from_env()``
(``CLAIMLOOKUP_STORE_URL``, ``CLAIMLOOKUP_API_KEY``, ...; see README.md,
"Configuration"), as Flask config keys named after them (``STORE_URL``,
``API_KEY``, ``MAX_PAGE_SIZE``, ...), then ``test_config``, which may
override any key. See docs/api.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from claimlookup.settings import Settings

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"

#: The settings the app uses; each is the config key of its name upper-cased.
APP_SETTINGS = ("store_url", "api_key", "read_api_key", "cors_origins", "gc_full_every", "max_page_size",
                "max_query_length", "max_query_string", "max_content_length", "max_batch_articles", "retry_after",
                "rate_limit", "rate_burst", "proxy_hops", "metrics_dir", "breaker_failures", "breaker_seconds")


def app_config(settings: Settings) -> dict[str, Any]:
    """The config keys of ``settings`` (``STORE_URL``, ``API_KEY``, ...)."""
    return {name.upper(): getattr(settings, name) for name in APP_SETTINGS}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, store state, error handlers, CORS, blueprints."""
    from api import (
        articles,
        catalog,
        claims,
        cors,
        docs,
        errors,
        gcpolicy,
        health,
        limits,
        observability,
        ratelimit,
        search,
        state,
    )

    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(app_config(Settings.from_env()))
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Article ids may be URLs: keep "//" in paths as sent (no redirect).
    app.url_map.merge_slashes = False

    state.init_state(app, Path(app.config.get("SPEC_PATH", SPEC_PATH)))
    errors.register_error_handlers(app)
    observability.init_observability(app)  # first: every later hook's answer has a request id
    ratelimit.init_rate_limit(app)
    limits.init_limits(app)
    cors.init_cors(app)
    gcpolicy.init_gc_policy(app, int(app.config["GC_FULL_EVERY"]))
    for blueprint in (search.bp, articles.bp, claims.bp, catalog.bp, health.bp, docs.bp):
        app.register_blueprint(blueprint)
    return app
