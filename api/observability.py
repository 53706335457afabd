"""Request ids, JSON logs and Prometheus metrics (docs/operations.md).

- Every request has an id: the caller's ``X-Request-ID`` when it is a sane
  token (at most 128 characters of letters, digits, ``.``, ``_``, ``-``),
  else a new one; it is returned in ``X-Request-ID`` and written in every
  log line about the request.
- Logs are JSON objects, one per line (``JSONFormatter``): the app's own
  log and, through ``api.serving.AccessLogger``, gunicorn's access and error
  logs.
- ``GET /metrics``: request counts by route, method and status; latency
  histograms by route; store failures by problem type; rate-limited
  requests; the model load (warm-up) time. Under gunicorn the workers share
  them through ``prometheus_client``'s multiprocess mode (a directory set up
  by ``gunicorn.conf.py``, ``PROMETHEUS_MULTIPROC_DIR``), so one scrape sees
  the whole server.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

REQUESTS = Counter("claimlookup_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram("claimlookup_request_seconds", "Time to answer a request", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
STORE_ERRORS = Counter("claimlookup_store_errors_total", "Requests that met a store failure", ["type"])
RATE_LIMITED = Counter("claimlookup_rate_limited_total", "Requests refused by the rate limit")
MODEL_LOAD = Gauge("claimlookup_model_load_seconds", "Seconds a worker took to load its models and warm up",
                   multiprocess_mode="max")

bp = Blueprint("observability", __name__)


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request
    id when there is one, the exception text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                                 "level": record.levelname.lower(), "logger": record.name,
                                 "message": record.getMessage()}
        rid = getattr(record, "request_id", None) or request_id()
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _start() -> None:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if _SANE_ID.fullmatch(sent) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    LATENCY.labels(route).observe(time.perf_counter() - g.get("started", time.perf_counter()))
    return response


def _registry() -> CollectorRegistry | None:
    """The registry to expose: every worker's files in multiprocess mode."""
    directory = current_app.config.get("METRICS_DIR")
    if not directory:
        return None
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry


@bp.get("/metrics")
def metrics() -> Response:
    registry = _registry()
    body = generate_latest(registry) if registry is not None else generate_latest()
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST})


def init_observability(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)
