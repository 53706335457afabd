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
"""

from __future__ import annotations

import gc
import itertools

from flask import Flask, Response

from claimlookup.settings import Settings

#: Requests between two full collections (each ~100-200 ms on the default store):
#: the default of ``CLAIMLOOKUP_GC_FULL_EVERY``.
FULL_EVERY = Settings().gc_full_every


def init_gc_policy(app: Flask, full_every: int = FULL_EVERY) -> None:
    """Freeze after every request, collect fully every ``full_every``
    requests; ``full_every`` <= 0 leaves the collector alone (the API tests
    do: pytest runs hundreds of apps in one process)."""
    if full_every <= 0:
        return
    counter = itertools.count(1)

    def settle() -> None:
        if next(counter) % full_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    @app.after_request
    def _settle_when_sent(response: Response) -> Response:
        # call_on_close runs when the server closes the response, after the
        # body was written: the periodic full pass delays no client.
        response.call_on_close(settle)
        return response
