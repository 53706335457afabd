"""The real server for the HTTP benchmarks (``bench.lookup``, ``bench.scale``).

gunicorn started as the README starts it (``gunicorn.conf.py``) on a free port of
127.0.0.1, requests on a fresh connection each, a bounded pool of client
threads, percentiles, and the memory of every server process read from
``/proc``. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT

#: One request: (method, path, JSON body or None).
Request = tuple[str, str, dict | None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store_url: str, port: int, workers: int) -> subprocess.Popen:
    """gunicorn as the README serves it (gunicorn.conf.py: threaded workers that
    warm their models before taking requests) in its own process group; access log off."""
    env = dict(os.environ, CLAIMLOOKUP_STORE_URL=store_url, CLAIMLOOKUP_WORKERS=str(workers))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--access-logfile", "/dev/null", "api:create_app()"],
        cwd=ROOT, env=env, start_new_session=True)


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (master and workers), then wait."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    """Until /readyz answers 200 (a worker answers only once it has warmed up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /readyz in time")


def request(port: int, method: str, path: str, payload: dict | None = None) -> tuple[int, float]:
    """One HTTP request on a fresh connection: (status, milliseconds)."""
    body = json.dumps(payload) if payload is not None else None
    headers = {"Content-Type": "application/json"} if body else {}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


@dataclass
class Load:
    """What ``send_all`` saw: latency of each answered request, by status."""

    latencies: dict[int, list[float]]  # status -> milliseconds
    seconds: float

    @property
    def count(self) -> int:
        return sum(len(ms) for ms in self.latencies.values())

    @property
    def statuses(self) -> dict[str, int]:
        return {str(status): len(ms) for status, ms in sorted(self.latencies.items())}

    def all_latencies(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]


def send_all(port: int, requests: Sequence[Request], clients: int, max_seconds: float) -> Load:
    """Send every request once from ``clients`` threads (each takes the next
    one when its previous answer is in), until done or ``max_seconds``."""
    latencies: dict[int, list[float]] = {}
    lock = threading.Lock()
    queue = iter(list(requests))
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            status, ms = request(port, *item)
            with lock:
                latencies.setdefault(status, []).append(ms)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Load(latencies, time.perf_counter() - started)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# --- memory -----------------------------------------------------------------------


def server_processes(master: int) -> list[int]:
    """The master's pid, then its children's (gunicorn's workers), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            children.append(int(entry.name))
    return [master, *sorted(children)]


def process_memory(pid: int) -> dict[str, int]:
    """Resident memory of one process in KiB: ``rss`` (now), ``hwm`` (its peak)
    and ``pss`` (shared pages divided among the processes that map them: the
    sum over processes counts each page once)."""
    memory = {}
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            memory["rss" if key == "VmRSS" else "hwm"] = int(value.split()[0])
    try:
        for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                memory["pss"] = int(line.split()[1])
    except OSError:
        pass  # kernels before 4.14 have no smaps_rollup
    return memory


def server_memory(master: int) -> list[dict[str, int]]:
    """``process_memory`` of the master and every worker, each with its ``pid``."""
    found = []
    for pid in server_processes(master):
        try:
            found.append({"pid": pid} | process_memory(pid))
        except OSError:
            continue  # a worker that exited meanwhile
    return found
