"""gunicorn settings for the API (``make serve``, ``make run``, the Docker image).

Read by ``gunicorn -c gunicorn.conf.py 'api:create_app()'``; the values come
from ``claimlookup.settings`` (README, "Configuration"); ``GUNICORN_CMD_ARGS``
still overrides any of them. Why a threaded worker: ``api/serving.py`` and
docs/operations.md, "Serving".
"""

import os
import shutil
import tempfile
from pathlib import Path

from claimlookup.settings import Settings

# Metrics shared by the workers (prometheus_client's multiprocess mode): a
# fresh directory for each server unless one is given; set before any worker
# imports prometheus_client (workers inherit the environment).
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="claimlookup-metrics-")
_settings = Settings.from_env()

worker_class = "api.serving.Worker"
workers = _settings.workers
threads = _settings.threads
# The heartbeat of a threaded worker runs in its main thread: this kills a
# worker that is stuck as a whole, never one busy with a long request.
timeout = 60
graceful_timeout = 30
keepalive = 5
# gunicorn's own limits stay (request line 4094 bytes, 100 headers of 8190):
# over them the answer is a problem+json 414 / 431 / 400 (api/serving.py).
accesslog = "-"
# JSON lines with the request id (api/serving.py, api/observability.py).
logger_class = "api.serving.JSONLogger"


def on_starting(server):
    """A given metrics directory starts empty (files of dead processes would be summed)."""
    if not _own_metrics_dir and _settings.metrics_dir:
        for stale in Path(_settings.metrics_dir).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir and _settings.metrics_dir:
        shutil.rmtree(_settings.metrics_dir, ignore_errors=True)


def post_worker_init(worker):
    """Each worker loads its models and runs one lookup before it takes a
    request (api.serving.warm_up): the first lookup after /readyz is warm."""
    import logging

    from flask.logging import default_handler

    from api.observability import JSONFormatter
    from api.serving import warm_up

    default_handler.setFormatter(JSONFormatter())
    worker.wsgi.logger.setLevel(logging.INFO)
    warm_up(worker.wsgi)
