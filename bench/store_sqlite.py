"""SQLite store figures: write, search, vector query and sync costs.

Uses the FA-KES texts with a crude sentence split, random unit vectors and a
few capitalised words as entities, so it measures the store alone (no spaCy,
no embedder). Prints figures; asserts nothing.

    .venv/bin/python bench/store_sqlite.py [--scale 8]   # --scale: copies of the corpus for a bigger run
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from claimlookup.model import Article, EntityMention, Filters, SearchRequest, Sentence  # noqa: E402
from claimlookup.query import parse_query  # noqa: E402
from claimlookup.store.sqlite import SQLiteStore  # noqa: E402

FA_KES = Path(__file__).resolve().parents[2] / "shared" / "data" / "fa-kes" / "FA-KES-Dataset.csv"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
CAPITALISED = re.compile(r"\b[A-Z][a-z]{3,}\b")


def articles(copies: int, rng: np.random.Generator) -> Iterator[Article]:
    with FA_KES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for copy in range(copies):
        for n, row in enumerate(rows):
            yield analysed(f"fa-kes:{copy}:{n}", row, rng)


def analysed(article_id: str, row: dict[str, str], rng: np.random.Generator) -> Article:
    title, body = row["article_title"].strip(), row["article_content"].strip()
    texts = [title, *[s for s in SENTENCE_END.split(body) if s.strip()]]
    vectors = rng.standard_normal((len(texts), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sentences = [Sentence(p, t, 0, len(t), vector=v, entities=mentions(t)) for p, (t, v) in
                 enumerate(zip(texts, vectors))]
    published = datetime.strptime(row["date"], "%m/%d/%Y").date() if row["date"] else None
    return Article(article_id, title, body, source=row["source"], published=published, sentences=sentences)


def mentions(text: str) -> list[EntityMention]:
    return [EntityMention(m.group(), "GPE", m.group().lower(), m.start(), m.end())
            for m in list(CAPITALISED.finditer(text))[:3]]


def timed(label: str, fn: Callable[[], object], repeat: int = 50) -> None:
    """Wall and CPU time: on a busy machine CPU time is the steadier figure."""
    fn()  # warm
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"{label:<52} wall median {statistics.median(wall) * 1000:7.2f} ms  "
          f"p90 {sorted(wall)[int(0.9 * len(wall))] * 1000:7.2f} ms  cpu {statistics.mean(cpu) * 1000:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1, help="copies of FA-KES to write")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    corpus = list(articles(args.scale, rng))
    n_sentences = sum(len(a.sentences) for a in corpus)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        store.setup()
        start, start_cpu = time.perf_counter(), time.process_time()
        list(store.write_articles(corpus))
        took, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        print(f"write {len(corpus)} articles / {n_sentences} sentences: {took:.2f} s wall, {cpu:.2f} s cpu "
              f"({len(corpus) / took:.0f} articles/s)")
        start = time.perf_counter()
        list(store.write_articles(corpus))
        print(f"rewrite unchanged: {time.perf_counter() - start:.2f} s")
        print(f"file size: {store.path.stat().st_size / 1e6:.1f} MB")
        bench_reads(store, rng)
        bench_sync(store, rng)
        start = time.perf_counter()
        with store.rebuild() as fresh:
            list(fresh.write_articles(corpus))
        print(f"rebuild (write + optimize + backup swap): {time.perf_counter() - start:.2f} s")
        store.close()


def bench_reads(store: SQLiteStore, rng: np.random.Generator) -> None:
    query = rng.standard_normal((1, 384)).astype(np.float32)
    query /= np.linalg.norm(query)
    start = time.perf_counter()
    store.vector_candidates(query, Filters(), 50)
    print(f"first vector query (full load of the matrix): {(time.perf_counter() - start) * 1000:.0f} ms")
    timed("vector_candidates 1 query, top 50", lambda: store.vector_candidates(query, Filters(), 50))
    timed("vector_candidates 1 query, exclude 1 article",
          lambda: store.vector_candidates(query, Filters(exclude_articles=("fa-kes:0:1",)), 50))
    timed("vector_candidates 1 query, source filter",
          lambda: store.vector_candidates(query, Filters(sources=("manar",)), 50))
    queries = np.repeat(query, 30, axis=0)
    timed("vector_candidates 30 queries (page scan)", lambda: store.vector_candidates(queries, Filters(), 50), 10)
    claim = parse_query("russian OR jets OR market OR killed OR civilians OR idlib")
    timed("lexical_candidates 6-term OR group, top 100", lambda: store.lexical_candidates(claim, Filters(), 100))
    for text in ("chemical attack", '"nerve agent"', "aleppo OR idlib -russia", ""):
        request = SearchRequest(query=parse_query(text))
        timed(f"search article level {text!r} + facets", lambda r=request: store.search(r), 20)
    request = SearchRequest(query=parse_query("chemical attack"), level="sentence")
    timed("search sentence level 'chemical attack' + facets", lambda: store.search(request), 20)
    timed("entities('al')", lambda: store.entities("al"), 20)
    timed("sources()", store.sources, 20)


def bench_sync(store: SQLiteStore, rng: np.random.Generator) -> None:
    """Cost of noticing another process's write: a second store object on the
    same file plays the other process."""
    other = SQLiteStore(store.path)
    query = np.zeros((1, 384), np.float32)
    query[0, 0] = 1.0
    victim = next(iter(store.search(SearchRequest(size=1, facets=False)).hits)).article_id
    article = store.get_article(victim)
    for s in article.sentences:
        s.vector = rng.standard_normal(384).astype(np.float32)
    article.body += " (corrected)"
    store.vector_candidates(query, Filters(), 10)
    list(other.write_articles([article]))
    start = time.perf_counter()
    store.vector_candidates(query, Filters(), 10)
    print(f"vector query after another writer replaced 1 article (incremental sync): "
          f"{(time.perf_counter() - start) * 1000:.1f} ms")
    other.close()


if __name__ == "__main__":
    main()
