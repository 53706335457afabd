"""SQLite store figures: write, search, vector query and sync costs.

Uses the FA-KES texts with a crude sentence split, random unit vectors and a
few capitalised words as entities, so it measures the store alone (no spaCy,
no embedder). Prints figures; asserts nothing.

    .venv/bin/python -m bench.store_sqlite [--scale 8]   # --scale: copies of the corpus for a bigger run
    .venv/bin/python -m bench.store_sqlite --get-sentences /tmp/copy.db [--claims 40]

``--get-sentences`` times ``get_sentences`` on an existing store (only read)
with the refs a claim lookup asks for: FA-KES sentences as claims (spaCy and
the embedder prepare them), their vector and BM25 candidates plus the
candidates' titles, as ``lookup.candidate_sets`` builds them. It compares the
store's ``get_sentences`` with the previous implementation (one json_each
join per table, every vector decoded from its BLOB), kept below as
``reference_get_sentences``, checks both return the same, and prints medians.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from claimlookup.model import (
    TITLE_POSITION,
    Article,
    EntityMention,
    Filters,
    SearchRequest,
    Sentence,
    SentenceRef,
    StoredSentence,
)
from claimlookup.query import parse_query
from claimlookup.store.common import parse_date
from claimlookup.store.sqlite import SQLiteStore
from claimlookup.store.sqlite.rows import refs_json, sentence, sentence_annotations

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
                 enumerate(zip(texts, vectors, strict=True))]
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
    parser.add_argument("--get-sentences", metavar="DB", type=Path,
                        help="only time get_sentences on this existing store file (read only)")
    parser.add_argument("--claims", type=int, default=40, help="claims for --get-sentences")
    parser.add_argument("--rounds", type=int, default=15, help="passes over the claims for --get-sentences")
    args = parser.parse_args()
    if args.get_sentences:
        bench_get_sentences(args.get_sentences, args.claims, args.rounds)
        return
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
        timed(f"search article level {text!r} + facets", functools.partial(store.search, request), 20)
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


def lookup_refs(store: SQLiteStore, claims: int, rng: np.random.Generator) -> list[list[SentenceRef]]:
    """Per claim, the refs ``candidate_sets`` passes to ``get_sentences``."""
    from claimlookup import lookup  # spaCy and the embedder: only this mode needs them

    with FA_KES.open(encoding="utf-8") as f:
        bodies = [row["article_content"] for row in csv.DictReader(f)]
    texts: list[str] = []
    while len(texts) < claims:
        candidates = [s for s in SENTENCE_END.split(bodies[rng.integers(len(bodies))]) if 60 <= len(s) <= 300]
        if candidates:
            texts.append(candidates[rng.integers(len(candidates))].strip())
    prepared = lookup.prepare_claims(texts)
    out = []
    for claim in prepared:
        [found] = store.vector_candidates(claim.vectors[:1], Filters(), lookup.VECTOR_CANDIDATES)
        proposed = store.lexical_candidates(lookup.lexical_query(claim, lookup.PROPOSING_TERMS), Filters(),
                                            lookup.LEXICAL_CANDIDATES)
        refs = dict.fromkeys(c.ref for c in proposed)
        refs.update(dict.fromkeys(c.ref for c in found))
        refs.update(dict.fromkeys(SentenceRef(r.article_id, TITLE_POSITION) for r in list(refs)))
        out.append(list(refs))
    return out


def reference_get_sentences(store: SQLiteStore, refs: list[SentenceRef]) -> list[StoredSentence]:
    """``get_sentences`` as it was before the read cache (for comparison)."""
    if not refs:
        return []
    with store._read() as conn:
        rows = conn.execute(
            "SELECT s.*, v.vector, a.pk, a.id AS article_id, a.title, a.source, a.published, a.url, "
            "a.content_hash FROM json_each(?) AS j JOIN articles a ON a.id = json_extract(j.value, '$[0]') "
            "JOIN sentences s ON s.article = a.pk AND s.position = json_extract(j.value, '$[1]') "
            "LEFT JOIN sentence_vectors v ON v.sentence = s.id ORDER BY j.key",
            (refs_json(refs),)).fetchall()
        mentions, quantities = sentence_annotations(conn, [(r["pk"], r["position"]) for r in rows])
        keys: dict[int, list[str]] = {}
        for pk, key in conn.execute(
                "SELECT article, key FROM article_entities WHERE article IN (SELECT value FROM json_each(?)) "
                "ORDER BY article, key", (json.dumps(sorted({r["pk"] for r in rows})),)):
            keys.setdefault(pk, []).append(key)
    return [StoredSentence(
        ref=SentenceRef(r["article_id"], r["position"]),
        sentence=sentence(r, mentions[(r["pk"], r["position"])],
                          quantities[(r["pk"], r["position"])], with_vector=True),
        title=r["title"], source=r["source"], published=parse_date(r["published"]), url=r["url"],
        article_hash=r["content_hash"], article_entities=tuple(keys.get(r["pk"], ()))) for r in rows]


def same(a: list[StoredSentence], b: list[StoredSentence]) -> bool:
    """Equal field by field (vectors compared exactly, dtype included)."""
    def plain(s: StoredSentence) -> tuple[object, ...]:
        return (s.ref, replace(s.sentence, vector=None), s.title, s.source, s.published, s.url, s.article_hash,
                s.article_entities, None if s.sentence.vector is None else s.sentence.vector.dtype)

    def same_vector(u: np.ndarray | None, v: np.ndarray | None) -> bool:
        return u is None and v is None or u is not None and v is not None and np.array_equal(u, v)

    return len(a) == len(b) and all(plain(x) == plain(y) and same_vector(x.sentence.vector, y.sentence.vector)
                                    for x, y in zip(a, b, strict=True))


def bench_get_sentences(path: Path, claims: int, rounds: int) -> None:
    """Old and new get_sentences interleaved on the same ref lists, so that a
    noisy machine slows both alike; the new one warm (its read cache filled)
    and cold (cache emptied before each call; the vector matrix stays)."""
    store = SQLiteStore(path)
    per_claim = lookup_refs(store, claims, np.random.default_rng(1))
    sizes = [len(refs) for refs in per_claim]
    print(f"{len(per_claim)} claims, refs per get_sentences call: median {statistics.median(sizes):.0f}, "
          f"min {min(sizes)}, max {max(sizes)}")
    if not all(same(store.get_sentences(refs), reference_get_sentences(store, refs)) for refs in per_claim):
        raise SystemExit("get_sentences differs from the reference implementation")
    calls: dict[str, Callable[[list[SentenceRef]], object]] = {
        "before (reference)": lambda refs: reference_get_sentences(store, refs),
        "after, cold cache": lambda refs: store.get_sentences(refs),
        # what any write (here or in another process) costs the next call: ids resolved again, rows kept
        "after, ids stale": lambda refs: store.get_sentences(refs),
        "after, warm cache": lambda refs: store.get_sentences(refs),
    }
    prepare: dict[str, Callable[[], object]] = {
        "after, cold cache": store._forget_read_cache, "after, ids stale": lambda: store._read_cache.pks.clear()}
    times: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(rounds):
        for refs in per_claim:
            for label, call in calls.items():
                prepare.get(label, lambda: None)()
                start = time.perf_counter()
                call(refs)
                times[label].append(time.perf_counter() - start)
    before = statistics.median(times["before (reference)"])
    for label, values in times.items():
        median = statistics.median(values)
        print(f"get_sentences {label:<20} median {median * 1000:6.2f} ms  "
              f"p90 {sorted(values)[int(0.9 * len(values))] * 1000:6.2f} ms  ({before / median:4.1f}x)")
    store.close()


if __name__ == "__main__":
    main()
