"""Scale: a prefix of the 1M-sentence news file, indexed, served and measured.

    .venv/bin/python -m bench.scale --sentences 100000
    nice -n 15 .venv/bin/python -m bench.scale --sentences 300000 > work/scale-300k.log 2>&1
    .venv/bin/python -m bench.scale --sentences 1000000 --repeat 1     # the whole file

1. **Index.** The prefix of ``../shared/data/scale/news-1m.jsonl.gz`` holding
   ``--sentences`` sentences: whole articles in file order, until their bodies'
   rough sentence count (the file README's rule: ``.``, ``!`` or ``?``,
   whitespace, then a capital, digit or quote) reaches N; the article that
   crosses N is taken whole. A number past the file's ~975k takes the whole
   file. The articles go through the product's reader and ingest pipeline
   (``indexer.readers.read_jsonl``, ``claimlookup.pipeline.ingest``) into
   ``<work dir>/news-<N>.db``. A rerun resumes: the pipeline skips every
   article whose stored content hash is unchanged before any NLP, so after a
   kill the next run indexes only what is missing (it prints how many
   articles were already there). Kill the whole process group (spaCy's worker
   processes with it). Progress and, at the end, wall and CPU seconds per stage.
   ``--from-store FILE`` starts a new store from a copy of a smaller prefix's
   (the 100k prefix is the start of the 300k one): only the rest is indexed.
2. **Serve and measure.** gunicorn as ``make serve`` runs it (``gunicorn.conf.py``,
   ``--workers``), ``CLAIMLOOKUP_STORE_URL`` at that file, on a free port of
   127.0.0.1; seconds until ``/readyz`` answers. Then, for each number of
   clients (``--clients``) and each of ``--repeat`` repetitions, lookups
   (``POST /v1/claims/lookup {"text", "limit": 10}``, claims drawn with a fixed
   seed from the prefix's own sentences of 12-40 words, new ones for every
   repetition and client count, since the lookup caches) and searches
   (``GET /v1/search?q=`` two words of such a sentence): p50 / p99 of the
   answered 200s, requests/s, other statuses counted. The medians over the
   repetitions are reported. Memory of every server process (master and
   workers, ``/proc``: RSS, peak RSS, PSS) after ready and after the load;
   the store's size on disk (database, ``-wal``).

Figures are printed as they come; the last line is one JSON object with
everything. Figures, not assertions: results go to docs/benchmarks.md, "Scale".
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import ROOT
from bench.server import (
    Load,
    Request,
    free_port,
    percentile,
    send_all,
    server_memory,
    start_server,
    stop_server,
    wait_ready,
)
from claimlookup.pipeline import ArticleRecord, IngestSummary, Problem, ingest
from claimlookup.store import open_store
from indexer.cli import VectorIndexed
from indexer.readers import read_jsonl

DATA = ROOT.parent / "shared" / "data" / "scale" / "news-1m.jsonl.gz"
WORK_DIR = ROOT / "work" / "scale"
LOOKUP = "/v1/claims/lookup"
SEARCH = "/v1/search"
#: The file README's rough sentence boundary.
_BOUNDARY = re.compile(r"[.!?]\s+(?=[A-Z0-9\"'\u201c])")
_SEARCH_WORD = re.compile(r"[A-Za-z]{5,}")
#: Sentences kept (reservoir sample) to draw claims and search words from.
POOL_SIZE = 5000


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    store_path = args.work_dir / f"news-{args.sentences}.db"
    prefix = read_prefix(args.data, args.sentences)
    print(f"prefix of {args.data.name} with {args.sentences:,} sentences: {prefix['articles']:,} articles, "
          f"{prefix['rough_sentences']:,} sentences by the rough count; store {store_path}", flush=True)
    result: dict[str, Any] = {"sentences_asked": args.sentences, "store": str(store_path), "prefix": prefix,
                              "code": code_version()}
    if args.from_store:
        copy_store(args.from_store, store_path)
        result["started_from"] = str(args.from_store)
    result["index"] = index(args.data, args.sentences, store_path, prefix["articles"])
    result["store_size"] = store_size(store_path)
    print(f"store on disk: {_mb(result['store_size']['total_bytes'])} "
          f"(database {_mb(result['store_size']['db_bytes'])}, wal {_mb(result['store_size']['wal_bytes'])}, "
          f"vector index {_mb(result['store_size']['ann_bytes'])})")
    if not args.index_only:
        pool = sentence_pool(args.data, args.sentences, args.seed)
        # A SIGTERM while serving ends the run through ``finally``: the server is
        # stopped. (While indexing, the default applies: spaCy's workers, which
        # get it too, could not be drained.)
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        try:
            result["serve"] = serve_and_measure(store_path, pool, args)
        finally:
            signal.signal(signal.SIGTERM, previous)
    print(json.dumps(result))
    return 0 if result.get("serve", {}).get("errors", 0) == 0 else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=100_000,
                        help="size of the prefix (e.g. 100000, 300000, 1000000)")
    parser.add_argument("--data", type=Path, default=DATA, help="the news file (JSON lines, gzipped)")
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR, help="where news-<N>.db lives (kept between runs)")
    parser.add_argument("--from-store", type=Path, metavar="FILE",
                        help="start a new store as a copy of a smaller prefix's (prefixes nest): "
                             "only the rest is indexed")
    parser.add_argument("--index-only", action="store_true", help="index (or resume), measure nothing")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (CLAIMLOOKUP_WORKERS)")
    parser.add_argument("--clients", type=_counts, default=[1, 4, 16], help="concurrent clients, comma-separated")
    parser.add_argument("--lookups", type=int, default=100, help="lookups per client count and repetition")
    parser.add_argument("--searches", type=int, default=300, help="searches per client count and repetition")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="bound on one client count's run")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def _counts(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("positive integers, comma-separated")
    return counts


def code_version() -> dict[str, Any]:
    """The commit measured, and how many product files differ from it (a shared tree)."""
    def git(*command: str) -> str:
        try:
            done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True, check=False)
        except OSError:
            return ""  # no git: a tarball, say
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "claimlookup", "api", "indexer", "gunicorn.conf.py")
    return {"commit": git("rev-parse", "--short", "HEAD"), "product_files_changed": len(changed.splitlines())}


# --- the prefix ---------------------------------------------------------------------


def rough_sentences(text: str) -> int:
    """Sentences by the file README's rough rule (0 for blank text)."""
    text = text.strip()
    return 1 + len(_BOUNDARY.findall(text)) if text else 0


def prefix_items(path: Path, sentences: int) -> Iterator[ArticleRecord | Problem]:
    """The file's records, through the product's JSON-lines reader, up to and
    including the one whose body brings the rough sentence count to ``sentences``."""
    counted = 0
    with gzip.open(path, "rb") as stream:
        for item in read_jsonl(stream, path.name):
            yield item
            if isinstance(item, ArticleRecord):
                counted += rough_sentences(item.body)
            if counted >= sentences:
                return


def read_prefix(path: Path, sentences: int) -> dict[str, int]:
    """How many records and rough sentences the prefix holds (one read of the file)."""
    articles = rough = problems = 0
    for item in prefix_items(path, sentences):
        if isinstance(item, Problem):
            problems += 1
            continue
        articles += 1
        rough += rough_sentences(item.body)
    return {"articles": articles, "rough_sentences": rough, "unreadable_lines": problems}


def sentence_pool(path: Path, sentences: int, seed: int, size: int = POOL_SIZE) -> list[str]:
    """A seeded reservoir sample of the prefix's sentences of 12-40 words."""
    rng = random.Random(seed)
    pool: list[str] = []
    seen = 0
    for item in prefix_items(path, sentences):
        if not isinstance(item, ArticleRecord):
            continue
        for sentence in _BOUNDARY.split(item.body):
            words = sentence.split()
            if not 12 <= len(words) <= 40 or "\ufffd" in sentence:
                continue
            seen += 1
            if len(pool) < size:
                pool.append(" ".join(words))
            elif (slot := rng.randrange(seen)) < size:
                pool[slot] = " ".join(words)
    if not pool:
        raise SystemExit("no sentence of 12-40 words in the prefix: nothing to look up")
    return pool


# --- indexing -------------------------------------------------------------------------


def index(path: Path, sentences: int, store_path: Path, articles: int) -> dict[str, Any]:
    """Index the prefix into ``store_path`` (or resume); what the run did."""
    store_path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{store_path.resolve()}")
    try:
        store.setup()
        before = store.count_articles()
        print(f"already in the store: {before:,} of the prefix's {articles:,} articles"
              + (" (resuming)" if 0 < before < articles else ""), flush=True)
        cpu_before = cpu_seconds()
        summary = ingest(store, prefix_items(path, sentences), on_progress=Progress(articles, before))
        cpu_used = cpu_seconds() - cpu_before
        after = store.count_articles()
        vector_index = refresh_vector_index(store)
    finally:
        store.close()
    report = index_report(summary, cpu_used, before, after, stored_sentences(store_path))
    report["vector_index"] = vector_index
    print_index(report)
    return report


def refresh_vector_index(store: Any) -> dict[str, Any]:
    """What ``claimlookup-index`` does after every run: build the SQLite
    store's approximate vector index when it is missing or stale (from
    ``ann.ANN_MIN_VECTORS`` vectors), with every core. Wall and CPU seconds."""
    if not isinstance(store, VectorIndexed):
        return {"action": "none (not a SQLite store)"}
    store.index_build_threads = os.cpu_count() or 1
    wall, cpu = time.perf_counter(), cpu_seconds()
    refresh = store.refresh_vector_index()
    out = {"action": refresh.action, "describe": refresh.describe(),
           "seconds": round(time.perf_counter() - wall, 1), "cpu_s": round(cpu_seconds() - cpu, 1)}
    print(f"vector index: {out['describe']} ({out['seconds']} s)", flush=True)
    return out


class Progress:
    """A line every 5 % of the input or every 60 seconds, whichever is first.
    The rate counts from the first article past the ``already`` stored ones
    (those are the prefix's first articles, skipped in seconds)."""

    def __init__(self, total: int, already: int = 0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.total, self.already, self.done, self.clock = max(total, 1), already, 0, clock
        self.started = self.last = self.resumed = clock()
        self.next_share = 0.05

    def __call__(self, settled: int) -> None:
        self.done += settled
        now = self.clock()
        if self.done <= self.already:
            self.resumed = now
        if self.done / self.total < self.next_share and now - self.last < 60 and self.done < self.total:
            return
        self.last = now
        self.next_share = self.done / self.total + 0.05
        rate = max(self.done - self.already, 0) / max(now - self.resumed, 1e-9)
        left = f"about {(self.total - self.done) / rate / 60:.0f} min left" if rate else "resuming"
        print(f"  {self.done:,}/{self.total:,} articles ({100 * self.done / self.total:.0f} %), "
              f"{now - self.started:.0f} s, {rate:.1f} articles/s, {left}", flush=True)


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite file ``source`` (the backup API) as the new store ``target``."""
    if target.exists():
        raise SystemExit(f"{target} exists: --from-store only starts a new store (delete it, or leave the option out)")
    target.parent.mkdir(parents=True, exist_ok=True)
    source_db = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)
    target_db = sqlite3.connect(target)
    try:
        source_db.backup(target_db)
    finally:
        target_db.close()
        source_db.close()
    print(f"started from a copy of {source}", flush=True)


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (spaCy's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stored_sentences(store_path: Path) -> int:
    """Sentences in the store file, titles included (read-only; a figure about the file)."""
    with sqlite3.connect(f"file:{store_path.resolve()}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM sentences").fetchone()[0])


def index_report(summary: IngestSummary, cpu_used: float, before: int, after: int, sentences: int) -> dict[str, Any]:
    return {"articles_before": before, "articles_after": after, "new": summary.new, "updated": summary.updated,
            "unchanged": summary.unchanged, "skipped": summary.skipped, "duplicates": summary.duplicates,
            "sentences_written": summary.sentences, "stored_sentences": sentences, "seconds": round(summary.seconds, 1),
            "sentences_per_s": round(summary.sentences / summary.seconds, 1) if summary.seconds else 0.0,
            "stages_s": {k: round(v, 1) for k, v in asdict(summary.stages).items()},
            "cpu_s": {k: round(v, 1) for k, v in asdict(summary.cpu).items()},
            "cpu_total_s": round(cpu_used, 1), "spacy_processes": summary.processes}


def print_index(r: dict[str, Any]) -> None:
    print(f"indexed: {r['new']:,} new, {r['updated']:,} updated, {r['unchanged']:,} already there (unchanged), "
          f"{r['skipped']:,} skipped, {r['duplicates']:,} duplicates; {r['sentences_written']:,} sentences written "
          f"in {r['seconds']} s ({r['sentences_per_s']} sentences/s); the store holds {r['articles_after']:,} "
          f"articles, {r['stored_sentences']:,} sentences (titles included)")
    stages, cpu = r["stages_s"], r["cpu_s"]
    print("  stage seconds: " + ", ".join(f"{k} {v}" for k, v in stages.items())
          + " | CPU seconds (indexing process): " + ", ".join(f"{k} {v}" for k, v in cpu.items())
          + f" | CPU in all, spaCy workers included: {r['cpu_total_s']}", flush=True)


def store_size(store_path: Path) -> dict[str, int]:
    sizes = {}
    for suffix, key in (("", "db_bytes"), ("-wal", "wal_bytes"), ("-shm", "shm_bytes")):
        file = store_path.with_name(store_path.name + suffix)
        sizes[key] = file.stat().st_size if file.exists() else 0
    index = store_path.with_name(store_path.name + ".ann")  # the approximate vector index, when built
    sizes["ann_bytes"] = index.stat().st_size if index.exists() else 0
    sizes["total_bytes"] = sizes["db_bytes"] + sizes["wal_bytes"] + sizes["ann_bytes"]
    return sizes


# --- serving ----------------------------------------------------------------------------


def lookups(pool: Sequence[str], count: int, rng: random.Random) -> list[Request]:
    return [("POST", LOOKUP, {"text": rng.choice(pool), "limit": 10}) for _ in range(count)]


def searches(pool: Sequence[str], count: int, rng: random.Random) -> list[Request]:
    """``GET /v1/search?q=`` two words (5+ letters) of a sentence of the pool."""
    found: list[Request] = []
    while len(found) < count:
        words = sorted(set(_SEARCH_WORD.findall(rng.choice(pool))))
        if len(words) >= 2:
            found.append(("GET", f"{SEARCH}?{urlencode({'q': ' '.join(rng.sample(words, 2)).lower()})}", None))
    return found


def serve_and_measure(store_path: Path, pool: Sequence[str], args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    started = time.perf_counter()
    server = start_server(f"sqlite:///{store_path.resolve()}", port, args.workers)
    try:
        wait_ready(port, server, timeout=600)
        ready_s = time.perf_counter() - started
        memory_ready = server_memory(server.pid)
        print(f"server: /readyz after {ready_s:.1f} s; {args.workers} workers; memory "
              f"{_memory_line(memory_ready)}", flush=True)
        warm = random.Random(args.seed - 1)
        send_all(port, lookups(pool, 2 * args.workers, warm) + searches(pool, 4 * args.workers, warm),
                 clients=args.workers, max_seconds=120)
        runs = measure(port, server.pid, pool, args)
        memory_loaded = server_memory(server.pid)
    finally:
        stop_server(server)
    result = {"workers": args.workers, "ready_s": round(ready_s, 1), "memory_ready": memory_summary(memory_ready),
              "memory_after_load": memory_summary(memory_loaded), "repeat": args.repeat}
    result |= {kind: {str(c): median_figures(runs[kind][c]) for c in args.clients} for kind in runs}
    result["errors"] = sum(f.get("errors", 0) for kind in runs for c in args.clients for f in runs[kind][c])
    print_serving(result, args.clients)
    return result


def measure(port: int, master: int, pool: Sequence[str], args: argparse.Namespace) -> dict[str, dict[int, list]]:
    """Lookups, then searches, for each client count, ``--repeat`` times: the figures of each run."""
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {"lookup": {}, "search": {}}
    for repetition in range(args.repeat):
        for clients in args.clients:
            rng = random.Random(f"{args.seed}/{repetition}/{clients}")  # new claims each time: the lookup caches
            for kind, requests in (("lookup", lookups(pool, args.lookups, rng)),
                                   ("search", searches(pool, args.searches, rng))):
                load_average = os.getloadavg()[0]
                figures = load_figures(send_all(port, requests, clients, args.max_seconds))
                figures["load_average"] = round(load_average, 2)
                figures["server_rss_mib"] = memory_summary(server_memory(master))["rss_total_mib"]
                runs[kind].setdefault(clients, []).append(figures)
                print(f"  {kind:6} clients {clients:2d} run {repetition + 1}: {_figures_line(figures)}", flush=True)
    return runs


def load_figures(load: Load) -> dict[str, Any]:
    """p50 / p99 of the 200s, requests/s of all answers, statuses; 5xx are errors."""
    ok = load.latencies.get(200, [])
    figures: dict[str, Any] = {"requests": load.count, "statuses": load.statuses,
                               "requests_per_s": round(load.count / load.seconds, 1) if load.seconds else 0.0,
                               "errors": sum(len(ms) for status, ms in load.latencies.items() if status >= 500)}
    if ok:
        figures |= {"p50_ms": round(statistics.median(ok), 1), "p99_ms": round(percentile(ok, 99), 1)}
    return figures


def median_figures(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the repetitions (each figure on its own)."""
    merged: dict[str, Any] = {}
    for key in ("p50_ms", "p99_ms", "requests_per_s"):
        values = [run[key] for run in runs if key in run]
        if values:
            merged[key] = round(statistics.median(values), 1)
    merged["requests"] = sum(run["requests"] for run in runs)
    merged["errors"] = sum(run["errors"] for run in runs)
    statuses: dict[str, int] = {}
    for run in runs:
        for status, count in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    merged["statuses"] = statuses
    merged["runs"] = [{k: run.get(k) for k in ("p50_ms", "p99_ms", "requests_per_s", "load_average", "server_rss_mib")}
                      for run in runs]
    return merged


def memory_summary(processes: Sequence[dict[str, int]]) -> dict[str, Any]:
    """Per process and summed, in MiB. The RSS sum counts pages shared between
    processes once per process; the PSS sum counts each page once."""
    def mib(kib: int) -> float:
        return round(kib / 1024, 1)

    summary: dict[str, Any] = {"processes": [{"pid": p["pid"], "role": "master" if i == 0 else "worker"}
                                             | {f"{k}_mib": mib(v) for k, v in p.items() if k != "pid"}
                                             for i, p in enumerate(processes)]}
    for key in ("rss", "hwm", "pss"):
        summary[f"{key}_total_mib"] = mib(sum(p.get(key, 0) for p in processes))
    return summary


def _memory_line(processes: Sequence[dict[str, int]]) -> str:
    summary = memory_summary(processes)
    per = ", ".join(f"{p['role']} RSS {p.get('rss_mib')} MiB" for p in summary["processes"])
    return f"{per}; all: RSS {summary['rss_total_mib']} MiB, PSS {summary['pss_total_mib']} MiB"


def _figures_line(f: dict[str, Any]) -> str:
    load = f"; load average {f['load_average']} before" if "load_average" in f else ""
    rss = f", server RSS {f['server_rss_mib']} MiB after" if "server_rss_mib" in f else ""
    return (f"p50 {f.get('p50_ms')} ms, p99 {f.get('p99_ms')} ms, {f['requests_per_s']} requests/s, "
            f"statuses {f['statuses']}{load}{rss}")


def print_serving(result: dict[str, Any], clients: Sequence[int]) -> None:
    print(f"medians of {result['repeat']} run(s):")
    for kind in ("lookup", "search"):
        for c in clients:
            print(f"  {kind:6} clients {c:2d}: {_figures_line(result[kind][str(c)])}")
    loaded = result["memory_after_load"]
    per = ", ".join(f"{p['role']} RSS {p.get('rss_mib')} (peak {p.get('hwm_mib')}) MiB" for p in loaded["processes"])
    print(f"memory after the load: {per}; all: RSS {loaded['rss_total_mib']} MiB, "
          f"peak RSS {loaded['hwm_total_mib']} MiB, PSS {loaded['pss_total_mib']} MiB", flush=True)


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


if __name__ == "__main__":
    sys.exit(main())
