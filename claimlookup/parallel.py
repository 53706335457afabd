"""One request's work shared with idle helper threads of its process.

The claim-relation model and the embedder run in onnxruntime, which releases
the GIL while it runs, so a request that has several independent pieces of
model work (a lookup's passages, a scan's claims) can use the cores that other
requests leave idle. :func:`shared` gives the pieces out one at a time to the
calling thread and to ``threads - 1`` helpers of a per-process pool (named in
``claimlookup.caches``). The caller always works too and never waits for a
helper that has not started: under load, when every helper is busy with other
requests, the caller does all of its own work and the helper task it queued is
cancelled; a started helper finishes the piece it holds. Results come back in
the order of the items, as a plain loop would give them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Pool name -> (process id, its thread count, its pool): created on first use,
#: again in a forked child or when more threads are asked for.
_POOLS: dict[str, tuple[int, int, ThreadPoolExecutor]] = {}
_POOLS_LOCK = threading.Lock()


def helpers(name: str, count: int) -> ThreadPoolExecutor:
    """The process's pool ``name`` (``caches.RELATION_HELPERS``, ...), with at
    least ``count`` threads."""
    with _POOLS_LOCK:
        found = _POOLS.get(name)
        if found is None or found[0] != os.getpid() or found[1] < count:
            pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix=name.rsplit(":", 1)[-1])
            found = _POOLS[name] = (os.getpid(), count, pool)
        return found[2]


def shared(items: Sequence[T], do: Callable[[T], R], threads: int, pool: str) -> list[R]:
    """``[do(item) for item in items]``, the items shared by the calling
    thread and at most ``threads - 1`` helpers of pool ``pool``. An exception
    of ``do`` is raised here once every started piece is done."""
    results: dict[int, R] = {}
    pending = iter(range(len(items)))
    lock = threading.Lock()
    failed = threading.Event()  # after a failure, nobody takes another piece

    def work() -> None:
        while True:
            with lock:
                k = None if failed.is_set() else next(pending, None)
            if k is None:
                return
            try:
                results[k] = do(items[k])
            except BaseException:
                failed.set()
                raise

    extra = min(threads, len(items)) - 1
    tasks = [helpers(pool, extra).submit(work) for _ in range(extra)] if extra > 0 else []
    try:
        work()  # the caller works too, and does everything if no helper is free
    finally:
        # A helper not started yet is dropped; a started one finishes its piece.
        started = [task for task in tasks if not task.cancel()]
        errors = [error for task in started if (error := task.exception()) is not None]
    if errors:
        raise errors[0]
    return [results[k] for k in range(len(items))]
