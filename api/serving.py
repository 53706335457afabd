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
from typing import Any

from gunicorn import util
from gunicorn.workers import gthread

from claimlookup.settings import Settings

PROBLEM_MIMETYPE = "application/problem+json"
#: Problem type of an answer gunicorn gives before the app sees the request.
MALFORMED = "urn:claimlookup:problem:malformed-request"


def problem_bytes(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 answer carrying a problem+json document."""
    kind = MALFORMED if 400 <= status < 500 else "urn:claimlookup:problem:internal-error"
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

