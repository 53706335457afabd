"""gunicorn settings for the API (``make serve``, ``make run``, the Docker image).

Read by ``gunicorn -c gunicorn.conf.py 'api:create_app()'``; the values come
from ``claimlookup.settings`` (README, "Configuration"); ``GUNICORN_CMD_ARGS``
still overrides any of them. Why a threaded worker: ``api/serving.py`` and
docs/operations.md, "Serving".
"""

from claimlookup.settings import Settings

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
