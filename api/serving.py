"""How the API is served: gunicorn's threaded worker, hardened.

``gunicorn.conf.py`` (read by ``make serve``, ``make run`` and the Docker
image) selects :class:`Worker`. Why threads (docs/operations.md, "Serving"):

- A sync worker is held by one client from its first byte to its last: two
  idle TCP connections took the whole API down, ``/healthz`` included. Here
  the worker's main thread waits on every socket; a connection takes one of
  ``CLAIMLOOKUP_THREADS`` threads only while it sends a request or is being
  answered, and a thread whose client stays silent for
  ``CLAIMLOOKUP_READ_TIMEOUT`` seconds in the middle of a request drops it.
- The worker's heartbeat runs in its main thread, so a long request (a
  batch of 100 articles, a slow store) never gets the worker killed halfway
  (the sync worker's 30 s timeout answered an HTML 500 after part of a batch
  was committed); ``/healthz`` answers from another thread meanwhile.
- Errors gunicorn answers itself (a request line or headers too long, a
  malformed request) are problem+json documents like every other error, not
  gunicorn's HTML page.

A buffering reverse proxy in front (``compose.yaml`` runs nginx) is still the
standard answer to many slow clients; this keeps a bare ``make run`` safe.
"""

from __future__ import annotations

import errno
import json
import socket
import time
from typing import Any

from gunicorn import glogging, util
from gunicorn.workers import gthread

from api.errors import INTERNAL, MALFORMED, PROBLEM_MIMETYPE
from claimlookup.settings import Settings


def problem_bytes(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 answer carrying a problem+json document."""
    kind = MALFORMED if 400 <= status < 500 else INTERNAL
    if status >= 500:
        detail = "The server failed to answer this request. This is a bug; it has been logged."
    body = json.dumps({"type": kind, "title": reason, "status": status,
                       "detail": detail or reason}).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_MIMETYPE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error`` (which writes an HTML page)."""
    util.write_nonblock(sock, problem_bytes(status_int, reason, mesg))


class _Socket(socket.socket):
    """A client socket whose read that times out reads as the end of input, so
    gunicorn closes the connection quietly (a premature disconnection) rather
    than logging a traceback per silent client."""

    def recv(self, size: int, flags: int = 0) -> bytes:
        try:
            return super().recv(size, flags)
        except TimeoutError:
            return b""


class _Connection(gthread.TConn):
    """A client connection whose reads and writes time out while a request is
    being read or answered (between requests the main thread's poller and the
    keep-alive timeout watch it instead)."""

    read_timeout: float = 10.0

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any) -> None:
        wrapped = _Socket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        super().__init__(cfg, wrapped, client, server)

    def init(self) -> None:
        super().init()
        self.sock.settimeout(self.read_timeout)


class Worker(gthread.ThreadWorker):
    """gunicorn's gthread worker with per-read timeouts and problem+json errors."""

    def init_process(self) -> None:
        # gunicorn answers the errors it meets itself through util.write_error.
        util.write_error = write_problem
        _Connection.read_timeout = float(Settings.from_env().read_timeout)
        super().init_process()

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        client.setblocking(True)
        self.enqueue_req(_Connection(self.cfg, client, address, listener.getsockname()))



# --- logs ----------------------------------------------------------------------


class JSONLogger(glogging.Logger):
    """gunicorn's logs as JSON lines: the error log through the app's
    formatter, the access log one object per request with its request id
    (``X-Request-ID``, set by ``api.observability``)."""

    def setup(self, cfg: Any) -> None:
        from api.observability import JSONFormatter

        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JSONFormatter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        headers = {k.lower(): v for k, v in (resp.headers.items() if hasattr(resp.headers, "items")
                                             else resp.headers)}
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": "info", "logger": "access",
                 "remote": atoms["h"], "method": atoms["m"], "path": atoms["U"], "query": atoms["q"] or "",
                 "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
                 "bytes": atoms["B"], "ms": round(atoms["D"] / 1000, 1), "user_agent": atoms["a"],
                 "request_id": headers.get("x-request-id")}
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


# --- warm-up ---------------------------------------------------------------------

#: The claim each worker looks up before it takes requests.
WARM_UP_CLAIM = "Rescuers said an airstrike on a market in the city killed 20 people on Monday."


def warm_up(app: Any) -> float:
    """Load every model this worker needs (spaCy, the sentence embedder, the
    relation model) and run one lookup and one scan through the store, so
    that the first request after ``/readyz`` does not pay 4-5 s of loading.
    Called by gunicorn's ``post_worker_init`` hook (``gunicorn.conf.py``):
    a worker takes no request before it returns. A store that fails here is
    logged, not fatal: ``/readyz`` reports it. Returns the seconds taken."""
    from api.gcpolicy import release_free_heap
    from api.observability import MODEL_LOAD
    from api.state import get_store
    from claimlookup.embed import get_embedder
    from claimlookup.lookup import LookupRequest, find_reports, scan
    from claimlookup.lookup.judging import get_relation_model
    from claimlookup.nlp import get_nlp
    from claimlookup.store.base import StoreError

    started = time.monotonic()
    get_nlp()
    get_embedder().embed([WARM_UP_CLAIM])
    get_relation_model().probabilities([WARM_UP_CLAIM], [WARM_UP_CLAIM])
    with app.app_context():
        try:
            store = get_store()
            find_reports(store, LookupRequest(WARM_UP_CLAIM, limit=3))
            scan(store, text=WARM_UP_CLAIM)
        except StoreError as e:
            app.logger.warning("warm-up: the store failed (%s); /readyz will say so", e)
    # Loading the store's vectors and the models leaves freed heap behind
    # (hundreds of MiB over a large store): give it back before serving.
    release_free_heap()
    seconds = time.monotonic() - started
    MODEL_LOAD.set(seconds)
    app.logger.info("warm-up: models loaded and one lookup run in %.1f s", seconds)
    return seconds
