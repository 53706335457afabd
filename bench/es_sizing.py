"""The size of the Elasticsearch store's documents, per million sentences,
measured on our own document shapes (``claimlookup.store.elastic.documents``)
for analysed articles (docs/store-elastic.md, "Sizing").

    .venv/bin/python -m bench.es_sizing                 # the five seed articles (seeds/*.txt)
    .venv/bin/python -m bench.es_sizing seeds/fa-kes    # any inputs the indexer reads

The inputs are analysed and embedded by the real pipeline into a temporary
SQLite store, read back with their vectors, and turned into the sentence and
article documents the Elasticsearch store writes; each is serialised as the
client sends it (compact JSON, UTF-8). Prints the documents' ``_source``
bytes (median, mean, 90th percentile; with and without the vector) and the
totals per million sentences; DEFLATE on all documents together gives an
idea of what ``_source`` compression keeps of them."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from claimlookup.model import Article, SearchRequest, SentenceRef
from claimlookup.pipeline import ingest
from claimlookup.store.base import Store
from claimlookup.store.elastic import article_document, sentence_actions
from claimlookup.store.sqlite import SQLiteStore
from indexer.readers import read_inputs

ROOT = Path(__file__).resolve().parents[1]
MILLION = 1_000_000


def json_bytes(doc: object) -> bytes:
    """A document as the ``elasticsearch`` client serialises it."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def stored_articles(store: Store) -> list[Article]:
    """Every article of the store with its sentences' vectors."""
    ids: list[str] = []
    page = 1
    while True:
        hits = store.search(SearchRequest(level="article", size=100, page=page)).hits
        ids += [h.article_id for h in hits]
        if len(hits) < 100:
            break
        page += 1
    out = []
    for article_id in ids:
        article = store.get_article(article_id)
        stored = store.get_sentences([SentenceRef(article_id, s.position) for s in article.sentences])
        out.append(replace(article, sentences=[s.sentence for s in stored]))
    return out


def summary(label: str, sizes: Sequence[int]) -> str:
    ordered = sorted(sizes)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (f"{label:<34} median {statistics.median(ordered):7.0f}  mean {statistics.fmean(ordered):7.0f}  "
            f"p90 {p90:7.0f} bytes")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", default=sorted(str(p) for p in (ROOT / "seeds").glob("*.txt")))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "sizing.db")
        store.setup()
        ingest(store, read_inputs(args.inputs))
        articles = stored_articles(store)
        store.close()
    sentences = [json_bytes(a["_source"]) for article in articles for a in sentence_actions(article, "s")]
    without = [json_bytes({k: v for k, v in a["_source"].items() if k != "vector"})
               for article in articles for a in sentence_actions(article, "s")]
    documents = [json_bytes(article_document(a)) for a in articles]
    n = len(sentences)
    per_article = n / len(articles)
    print(f"{len(articles)} articles, {n} sentences ({per_article:.1f} per article)")
    print(summary("sentence _source with its vector", [len(s) for s in sentences]))
    print(summary("sentence _source without it", [len(s) for s in without]))
    print(summary("article _source", [len(d) for d in documents]))
    source = sum(map(len, sentences)) / n * MILLION
    bare = sum(map(len, without)) / n * MILLION
    article_total = sum(map(len, documents)) / n * MILLION
    print("per million sentences:")
    print(f"  sentence _source with vectors     {source / 1e9:6.2f} GB  (DEFLATE: "
          f"{len(zlib.compress(b''.join(sentences))) / len(b''.join(sentences)):.0%} of it)")
    print(f"  sentence _source without vectors  {bare / 1e9:6.2f} GB  (DEFLATE: "
          f"{len(zlib.compress(b''.join(without))) / len(b''.join(without)):.0%} of it)")
    print(f"  article _source ({MILLION / per_article:,.0f} articles) {article_total / 1e9:6.2f} GB")


if __name__ == "__main__":
    main()
