"""Claim-matching quality on CLEF CheckThat! 2020 Task 2 (tweets -> verified claims).

Indexes the verified claims as articles (id = vclaim_id, title = the claim's
title, body = the claim) into a fresh store through the real ingest pipeline,
sends every query of a split through ``claimlookup.lookup.find_reports`` (the
code path of ``POST /v1/claims/lookup``), and prints MAP@1, MAP@5, MRR, P@1,
recall@20 and lookup latency. The last line printed is one JSON object.

    .venv/bin/python bench/checkthat.py --data-dir ../shared/data/checkthat2020 --split dev
    .venv/bin/python bench/checkthat.py ... --cache-dir /tmp/ct-cache   # reuse the built store
    .venv/bin/python bench/checkthat.py ... --ablation                  # MAP@5 per evidence source

Layout of ``--data-dir``: ``verified_claims.docs.tsv`` (vclaim_id, vclaim,
title) and ``<split>/tweets.queries.tsv`` + ``<split>/tweet-vclaim-pairs.qrels``
(TREC: ``qid 0 docid 1``). MAP@k follows the task's scorer: precision at each
relevant hit within the first k, summed and divided by the number of relevant
claims of the query.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from claimlookup.pipeline import ArticleRecord, Origin, ingest  # noqa: E402
from claimlookup.store import Store, open_store  # noqa: E402

CLAIMS_FILE = "verified_claims.docs.tsv"
QUERIES_FILE = "tweets.queries.tsv"
QRELS_FILE = "tweet-vclaim-pairs.qrels"
DEPTH = 20  # reports asked per query: recall@20 needs 20


@dataclass(frozen=True)
class Split:
    queries: dict[str, str]  # qid -> tweet text
    qrels: dict[str, set[str]]  # qid -> relevant vclaim ids


def _tsv_rows(path: Path) -> Iterator[list[str]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows, None)  # header
        yield from rows


def claim_records(data_dir: Path) -> Iterator[ArticleRecord]:
    path = data_dir / CLAIMS_FILE
    for line, row in enumerate(_tsv_rows(path), start=2):
        vclaim_id, vclaim, title = (row + ["", "", ""])[:3]
        yield ArticleRecord(body=vclaim, title=title or None, id=vclaim_id, origin=Origin(str(path), line))


def read_split(data_dir: Path, split: str) -> Split:
    queries = {row[0]: row[1] for row in _tsv_rows(data_dir / split / QUERIES_FILE) if len(row) >= 2}
    qrels: dict[str, set[str]] = {}
    with open(data_dir / split / QRELS_FILE, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[3] != "0":
                qrels.setdefault(parts[0], set()).add(parts[2])
    return Split({q: t for q, t in queries.items() if q in qrels}, qrels)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def build_store(data_dir: Path, cache_dir: Path | None, store_url: str | None) -> tuple[Store, str]:
    """A store holding the verified claims, built through the ingest pipeline.

    With ``store_url``: that store is (re)filled. With ``cache_dir``: the
    SQLite file ``checkthat-<hash of the claims file>.db`` is reused if it
    exists. Otherwise a fresh store in a temporary directory.
    """
    if store_url:
        store = open_store(store_url)
        return _filled(store, data_dir, fresh=True), store_url
    if cache_dir:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = cache_dir / f"checkthat-{file_hash(data_dir / CLAIMS_FILE)}.db"
        if path.exists():
            print(f"store: reusing {path} (key = sha256 of {CLAIMS_FILE}; delete it to rebuild)", flush=True)
            return open_store(f"sqlite:///{path}"), str(path)
        partial = path.with_suffix(".building")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        store = _filled(open_store(f"sqlite:///{partial / 'store.db'}"), data_dir, fresh=True)
        store.close()
        (partial / "store.db").rename(path)
        shutil.rmtree(partial, ignore_errors=True)
        print(f"store: built and cached as {path}", flush=True)
        return open_store(f"sqlite:///{path}"), str(path)
    path = Path(tempfile.mkdtemp(prefix="checkthat-")) / "store.db"
    return _filled(open_store(f"sqlite:///{path}"), data_dir, fresh=True), str(path)


def _filled(store: Store, data_dir: Path, fresh: bool) -> Store:
    store.setup()
    started = time.perf_counter()
    summary = ingest(store, claim_records(data_dir))
    print(f"store: indexed {summary.articles} claims ({summary.new} new, {summary.skipped} skipped, "
          f"{summary.duplicates} duplicates) in {time.perf_counter() - started:.0f} s", flush=True)
    for problem in summary.problems[:10]:
        print(f"  {problem}", flush=True)
    return store
