"""Build the judging pool of the news claim set (``bench/data/news-pool.jsonl``).

    .venv/bin/python -m bench.news_pool [--claims 48] [--depth 8] [--store FILE]

Samples news claims from FA-KES (one per article, fixed seed): a stored
sentence of 10-40 words that gives a figure and names a place, as a
journalist would paste it; or, with ``--written``, takes claims that people
wrote in their own words about given articles, as a journalist would type
them. Each claim is looked up on the seeds + FA-KES
store (the bench store of ``bench/lookup.py``) with its own article excluded,
and the top ``--depth`` reports (copies of the claim's article excluded too)
become pairs to judge: the claim, and the report's title, date, source and
its best sentences. Judges write ``label`` (1 = reports the same claim, 0 =
not) into ``bench/data/news-claims.jsonl``; how is in docs/benchmarks.md.

Pooling from the current system's top reports is the usual TREC-style
compromise: reports no judged system returned count as not relevant.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_STORE, ROOT, ensure_store
from claimlookup import lookup
from claimlookup.model import Filters
from claimlookup.store import Store, open_store

PLACE_LABELS = {"GPE", "LOC", "FAC"}


def sample_claims(store: Store, path: Path, count: int, seed: int) -> list[dict[str, Any]]:
    ids = sorted(a for a in article_ids(path) if a.startswith("fa-kes:"))
    rng = random.Random(seed)
    rng.shuffle(ids)
    out = []
    for article_id in ids:
        article = store.get_article(article_id)
        pool = [s for s in article.sentences[1:]
                if s.position >= 0 and 10 <= len(s.text.split()) <= 40 and s.quantities
                and any(e.label in PLACE_LABELS for e in s.entities) and "\ufffd" not in s.text]
        if pool:
            s = rng.choice(pool)
            out.append({"article_id": article_id, "position": s.position, "claim": s.text,
                        "claim_source": article.source,
                        "claim_published": article.published.isoformat() if article.published else None})
        if len(out) == count:
            break
    return out


def written_claims(store: Store, path: Path) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            article = store.get_article(row["article_id"])
            out.append({"article_id": article.id, "position": None, "claim": row["claim"],
                        "claim_source": article.source,
                        "claim_published": article.published.isoformat() if article.published else None})
    return out


def article_ids(path: Path) -> list[str]:
    """Every article id of the bench store (a SQLite file)."""
    with closing(sqlite3.connect(path)) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM articles")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=48)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "data" / "news-pool.jsonl")
    parser.add_argument("--written", type=Path, help="JSON lines {article_id, claim}: claims written by "
                        "people about those articles, instead of sampled sentences")
    parser.add_argument("--first-id", type=int, default=0, help="claim_id of the first claim")
    args = parser.parse_args(argv)
    store = open_store(ensure_store(args.store))
    rows = []
    chosen = (written_claims(store, args.written) if args.written
              else sample_claims(store, args.store, args.claims, args.seed))
    for n, claim in enumerate(chosen, start=args.first_id):
        result = lookup.find_reports(store, lookup.LookupRequest(
            claim["claim"], Filters(exclude_articles=(claim["article_id"],)), limit=args.depth))
        for rank, report in enumerate(result.reports, start=1):
            rows.append({"claim_id": n, "claim": claim["claim"], "claim_article": claim["article_id"],
                         "claim_source": claim["claim_source"], "claim_published": claim["claim_published"],
                         "report": report.article_id, "rank": rank, "score": report.score,
                         "title": report.title, "source": report.source,
                         "published": report.published.isoformat() if report.published else None,
                         "sentences": [s.text for s in report.sentences[:3]], "label": None})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pairs for {len({r['claim_id'] for r in rows})} claims -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
