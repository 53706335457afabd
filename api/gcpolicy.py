"""Keep the cycle collector's full passes out of the request path.

A worker's long-lived objects (spaCy's and the embedder's models, the vector
matrix, the store's read cache, the lookup's text caches: a few hundred
thousand objects after a few hundred lookups) made every full (generation 2)
collection of CPython's cycle collector take 100-170 ms, about once per 80
lookups on the seeds + FA-KES store: most of the lookup's p99. After each
request the surviving objects are frozen (``gc.freeze``: moved out of the
collector's generations, O(1)), so automatic collections only look at what
the next request allocates. A lookup leaves ~6 objects of cyclic garbage
(measured: 600 after 100 lookups); frozen, they would never be freed, so
every ``FULL_EVERY`` requests the worker unfreezes, collects once, and freezes
again: one full pass per ``FULL_EVERY`` requests instead of one per ~80,
run when the response is closed (after its body was sent), not before.
A request that ends in an unhandled exception skips the step; the next
request's freeze covers it.

The same hook gives freed heap back to the system every ``TRIM_EVERY``
requests (``release_free_heap``: glibc's ``malloc_trim``). Python frees a
lookup's temporary objects and arrays, but glibc keeps the pages for reuse
and, across threads and sizes, reuses them badly: a worker over the 300k
store grew 0.5 MiB per lookup, and after 200 lookups held 475 MiB of freed
heap that one ``malloc_trim(0)`` gave back (``python -m bench.memory``;
docs/benchmarks.md, "Memory of a worker"). A trim costs ~30 ms when there
is that much to give back and microseconds when there is not; it runs after
the response is sent, like the collection.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
from typing import Any

from flask import Flask, Response

from claimlookup.settings import Settings

#: Requests between two full collections (each ~100-200 ms on the default store):
#: the default of ``CLAIMLOOKUP_GC_FULL_EVERY``.
FULL_EVERY = Settings().gc_full_every
#: Requests between two heap trims (``release_free_heap``).
TRIM_EVERY = 100


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_free_heap() -> bool:
    """Return the heap pages the C allocator holds but nothing uses to the
    system (``malloc_trim(0)``). False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def init_gc_policy(app: Flask, full_every: int = FULL_EVERY) -> None:
    """Freeze after every request, collect fully every ``full_every``
    requests; ``full_every`` <= 0 leaves the collector alone (the API tests
    do: pytest runs hundreds of apps in one process)."""
    if full_every <= 0:
        return
    counter = itertools.count(1)

    def settle() -> None:
        served = next(counter)
        if served % full_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        if served % TRIM_EVERY == 0:
            release_free_heap()

    @app.after_request
    def _settle_when_sent(response: Response) -> Response:
        # call_on_close runs when the server closes the response, after the
        # body was written: the periodic full pass delays no client.
        response.call_on_close(settle)
        return response
