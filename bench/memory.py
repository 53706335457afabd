"""Where a server worker's memory goes: one process built like a gunicorn
worker (the real Flask app over a SQLite store), measured step by step.

    .venv/bin/python -m bench.memory --store work/scale/news-300000.db --lookups 300

Steps, each with the process's RSS, PSS (``/proc/self/smaps_rollup``), peak RSS and
the change from the step before: the interpreter with the API imported;
spaCy loaded; the sentence embedder; the relation model; the store opened
(its in-memory vectors, or the approximate index's mapped file); one
lookup; then ``--lookups`` lookups and as many searches through the test
client (claims drawn with a fixed seed from the store's own sentences of
12-40 words, no two alike), with the growth reported in four slices.

Then what the worker holds at the end, measured, not guessed: the vector
snapshot's arrays (bytes), the store's read cache (sentences and articles
held; the bytes its entries reach with ``sys.getsizeof`` followed through
containers), every declared lru cache's entries, objects the cycle collector
tracks and has frozen (``api/gcpolicy.py``); and what giving memory back
frees: ``malloc_trim(0)`` (``api.gcpolicy.release_free_heap``: heap pages glibc keeps after Python freed them),
then dropping the read cache and the lru memos, each followed by a trim.
``--no-trim`` serves as the worker did before it trimmed its heap (no
trim after the first lookup, no gc/heap policy), for the comparison.

Figures, not assertions; the last line is one JSON object. Results go to
docs/benchmarks.md, "Memory of a worker".
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any


def memory_mib() -> dict[str, float]:
    """RSS and PSS of this process, MiB (smaps_rollup; RSS from status if absent)."""
    fields: dict[str, float] = {}
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in ("Rss:", "Pss:", "Pss_Anon:", "Pss_File:", "Anonymous:"):
                    fields[parts[0].rstrip(":").lower()] = round(int(parts[1]) / 1024, 1)
    except OSError:
        pass
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:") and "rss" not in fields:
                fields["rss"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                fields["peak_rss"] = round(int(line.split()[1]) / 1024, 1)
    return fields


class Steps:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.last = memory_mib()
        self.started = time.perf_counter()

    def mark(self, name: str, **extra: Any) -> None:
        now = memory_mib()
        row = {"step": name, **now, "delta_rss": round(now.get("rss", 0) - self.last.get("rss", 0), 1), **extra}
        self.rows.append(row)
        self.last = now
        more = "".join(f", {k} {v}" for k, v in extra.items())
        print(f"{name:<44} RSS {now.get('rss', 0):>8.1f} MiB ({row['delta_rss']:+8.1f}), "
              f"PSS {now.get('pss', 0):>8.1f} MiB, peak RSS {now.get('peak_rss', 0):>8.1f} MiB{more}", flush=True)


def deep_size(root: object, limit: int = 5_000_000) -> int:
    """Bytes reached from ``root`` through containers, dataclass slots and
    named tuples (``sys.getsizeof`` of each distinct object; numpy arrays by
    ``nbytes`` + header). Stops after ``limit`` objects."""
    import numpy as np

    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes + 112
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
            continue
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__slots__"):
            stack.extend(getattr(obj, s) for s in obj.__slots__ if hasattr(obj, s))
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack.extend(vars(obj).values())
    return total


def claims_from_store(path: Path, count: int, seed: int) -> list[str]:
    """``count`` distinct sentences of 12-40 words from the store, fixed seed."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        top = conn.execute("SELECT max(id) FROM sentences").fetchone()[0] or 0
        rng = random.Random(seed)
        out: dict[str, None] = {}
        tries = 0
        while len(out) < count and tries < count * 50:
            tries += 1
            row = conn.execute("SELECT text FROM sentences WHERE id >= ? LIMIT 1", (rng.randint(1, top),)).fetchone()
            if row and 12 <= len(row[0].split()) <= 40:
                out[row[0]] = None
        return list(out)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a SQLite store file")
    parser.add_argument("--lookups", type=int, default=300, help="lookups (and as many searches) after the first")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-trim", action="store_true",
                        help="no heap trims while serving (the worker before api/gcpolicy.py trimmed)")
    args = parser.parse_args(argv)

    os.environ["CLAIMLOOKUP_STORE_URL"] = f"sqlite:///{args.store.resolve()}"
    steps = Steps()
    import api  # noqa: F401 - the imports a worker makes
    from api import create_app
    from api.gcpolicy import release_free_heap
    from api.state import get_store
    steps.mark("interpreter + API imported")

    from claimlookup.embed import get_embedder
    from claimlookup.lookup.judging import get_relation_model
    from claimlookup.nlp import get_nlp

    get_nlp()(WARM := "Rescuers said an airstrike on a market in the city killed 20 people on Monday.")
    steps.mark("spaCy loaded, one text parsed")
    get_embedder().embed([WARM])
    steps.mark("sentence embedder loaded, one text")
    get_relation_model().probabilities([WARM], [WARM])
    steps.mark("relation model loaded, one pair")

    app = create_app({"GC_FULL_EVERY": 0} if args.no_trim else None)
    client = app.test_client()
    with app.app_context():
        store = get_store()
        store.setup()
    steps.mark("app created, store opened")
    claims = claims_from_store(args.store, args.lookups + 1, args.seed)
    steps.mark("claims drawn (bench's own list)", claims=len(claims))

    def closed(response: Any) -> int:
        response.close()  # as a server does after sending the body: the worker's gc and heap policy runs
        return int(response.status_code)

    def lookup(text: str) -> int:
        return closed(client.post("/v1/claims/lookup", json={"text": text, "limit": 10}))

    def search(text: str) -> int:
        return closed(client.get("/v1/search", query_string={"q": " ".join(text.split()[:2])}))

    status = lookup(claims[0])
    steps.mark("first lookup (vectors loaded)", status=status)
    if not args.no_trim:
        release_free_heap()
        steps.mark("heap trimmed, as the warm-up ends")
    statuses: dict[int, int] = {}
    slices = 4
    per = max(1, args.lookups // slices)
    for k in range(slices):
        begun = time.perf_counter()
        for text in claims[1 + k * per: 1 + (k + 1) * per]:
            for call in (lookup, search):
                code = call(text)
                statuses[code] = statuses.get(code, 0) + 1
        steps.mark(f"after {(k + 1) * per} lookups + searches", seconds=round(time.perf_counter() - begun, 1))

    held = holdings(store)
    for name, value in held.items():
        print(f"  holds: {name}: {value}")
    trimmed = release_free_heap()
    steps.mark("malloc_trim(0)" if trimmed else "malloc_trim unavailable")
    drop_read_cache(store)
    gc.collect()
    release_free_heap()
    steps.mark("read cache dropped, collected, trimmed")
    from claimlookup import caches
    caches.clear_all(models=False)
    gc.collect()
    release_free_heap()
    steps.mark("lru memos cleared, collected, trimmed")
    result = {"store": str(args.store), "lookups": args.lookups, "statuses": statuses, "steps": steps.rows,
              "holds": held}
    print(json.dumps(result))
    return 0


def holdings(store: Any) -> dict[str, Any]:
    from claimlookup import caches

    out: dict[str, Any] = {}
    snapshot = getattr(store, "_vectors", None)
    if snapshot is not None:
        buffer = snapshot.buffer
        out["vector rows in memory"] = int(snapshot.size)
        out["vector arrays MiB (capacity)"] = round(sum(a.nbytes for a in (
            buffer.sentence_ids, buffer.article_pks, buffer.positions, buffer.matrix)) / 2**20, 1)
        out["vector article-id strings MiB"] = round(deep_size(buffer.article_ids) / 2**20, 1)
        out["vector floor (rows in the approximate index)"] = int(snapshot.floor)
    index = getattr(store, "_index_in_use", None)
    out["approximate index in use"] = index is not None
    cache = getattr(store, "_read_cache", None)
    if cache is not None:
        out["read cache sentences"] = len(cache.sentences)
        out["read cache articles"] = len(cache.articles)
        out["read cache MiB (deep)"] = round(deep_size(cache) / 2**20, 1)
    out["lru entries"] = {name: fn.cache_info().currsize for name, fn in caches.loaded().items()
                          if fn.cache_info().currsize}
    out["gc tracked objects"] = len(gc.get_objects())
    out["gc frozen objects"] = gc.get_freeze_count()
    return out


def drop_read_cache(store: Any) -> None:
    from claimlookup.store.sqlite.read_cache import ReadCache

    if hasattr(store, "_read_cache"):
        store._read_cache = ReadCache.empty()



if __name__ == "__main__":
    sys.exit(main())
