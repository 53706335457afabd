"""Claim-matching quality on CLEF CheckThat! 2020 Task 2 (tweets -> verified claims).

Indexes the verified claims as articles (id = vclaim_id, title = the claim's
title, body = the claim) into a fresh store through the real ingest pipeline,
sends every query of a split through ``claimlookup.lookup.find_reports`` (the
code path of ``POST /v1/claims/lookup``), and prints MAP@1, MAP@5, MRR, P@1,
recall@20 and lookup latency. The last line printed is one JSON object.

    .venv/bin/python -m bench.checkthat --data-dir ../shared/data/checkthat2020 --split dev
    .venv/bin/python -m bench.checkthat ... --cache-dir /tmp/ct-cache   # reuse the built store
    .venv/bin/python -m bench.checkthat ... --ablation                  # MAP@5 per evidence source

Layout of ``--data-dir``: ``verified_claims.docs.tsv`` (vclaim_id, vclaim,
title) and ``<split>/tweets.queries.tsv`` + ``<split>/tweet-vclaim-pairs.qrels``
(TREC: ``qid 0 docid 1``). MAP@k follows the task's scorer: precision at each
relevant hit within the first k, summed and divided by the number of relevant
claims of the query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from claimlookup import fusion
from claimlookup.lookup import (
    ARTICLE_FEATURES,
    SENTENCE_FEATURES,
    ClaimTooShort,
    LookupRequest,
    LookupResult,
    find_reports,
)
from claimlookup.store import Store
from claimlookup.training.fusion import (
    CandidateSets,
    Split,
    build_store,
    collect,
    fit_models,
    metrics,
    rankings,
    read_split,
    scored,
)

DEPTH = 20  # reports asked per query: recall@20 needs 20


def ranked_ids(result: LookupResult) -> list[str]:
    """Report ids in order, each followed by its folded copies (a copy is
    as much a report of the claim as its lead)."""
    return [i for r in result.reports for i in (r.article_id, *(c.article_id for c in r.copies))]


@dataclass
class Lookups:
    """What ``run_lookups`` saw: each query's ranking, latencies (ms), the
    queries refused as too short, every returned report's (score, relevant),
    and how many claims the news-evidence model applied to."""

    rankings: dict[str, list[str]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    rejected: int = 0
    scored: list[tuple[float, bool]] = field(default_factory=list)
    news_applied: int = 0


def run_lookups(store: Store, split: Split) -> Lookups:
    """Every query through find_reports."""
    find_reports(store, LookupRequest("Warm-up query about a claim that loads every model"))
    out = Lookups()
    for qid, text in split.queries.items():
        started = time.perf_counter()
        try:
            result = find_reports(store, LookupRequest(text, limit=DEPTH))
        except ClaimTooShort:
            out.rejected += 1
            continue
        finally:
            out.latencies.append((time.perf_counter() - started) * 1000)
        out.rankings[qid] = ranked_ids(result)
        relevant = split.qrels.get(qid, set())
        out.scored += [(r.score, r.article_id in relevant) for r in result.reports]
        out.news_applied += any(q.qualifier != "vague" for q in result.claim.quantities)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- ablation --------------------------------------------------------------------------

#: Evidence sources removed one at a time in --ablation: (sentence features, article features).
#: The rows rank with the CheckThat!-fitted stage only (figures and the news-evidence
#: stage are not part of it; the news stage is measured by bench/news.py).
EVIDENCE = {
    "lexical (BM25 + coverage)": (("bm25", "coverage", "coverage_reverse", "rank_lexical"),
                                  ("coverage_article", "title_bm25")),
    "BM25 feature only (coverage kept)": (("bm25", "rank_lexical"), ("title_bm25",)),
    "vectors (cosines)": (("cosine", "cosine_gap", "rank_vector"), ("title_cosine",)),
    "entities": (("entities_shared", "entities_missing"), ("entities_shared", "entities_missing")),
    "relative features (gap, ranks)": (("cosine_gap", "rank_vector", "rank_lexical"), ()),
    "second-best sentence": ((), ("second_sentence",)),
}


def best_sentence_rankings(sets: CandidateSets, column: int) -> dict[str, list[str]]:
    """Each query's articles by the best value of one sentence feature."""
    out = {}
    for qid, c in sets:
        best = [c.features[rows, column].max() for rows in c.article_rows]
        out[qid] = [c.articles[k] for k in sorted(range(len(best)), key=lambda k: -best[k])]
    return out


def ablation(store: Store, train: Split, dev: Split) -> list[tuple[str, float]]:
    train_sets, dev_sets = collect(store, train), collect(store, dev)

    def fused(drop_sentence: Sequence[str] = (), drop_article: Sequence[str] = ()) -> float:
        s_names = [n for n in SENTENCE_FEATURES if n not in drop_sentence]
        a_names = [n for n in ARTICLE_FEATURES if n not in drop_article]
        models = fit_models(train_sets, train.qrels, sentence_names=s_names, article_names=a_names)
        return metrics(rankings(scored(dev_sets, models, s_names, a_names)), dev.qrels)["map_at_5"]

    rows = [("BM25 only (best sentence by the lookup's BM25, same candidates)",
             metrics(best_sentence_rankings(dev_sets, SENTENCE_FEATURES.index("bm25")), dev.qrels)["map_at_5"]),
            ("vectors only (best sentence by cosine, same candidates)",
             metrics(best_sentence_rankings(dev_sets, SENTENCE_FEATURES.index("cosine")),
                     dev.qrels)["map_at_5"]),
            ("fused (all features)", fused())]
    for name, (drop_sentence, drop_article) in EVIDENCE.items():
        rows.append((f"fused minus {name}", fused(drop_sentence, drop_article)))
    return rows


# --- main ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--split", default="dev", help="split to evaluate (a folder of --data-dir)")
    parser.add_argument("--store", help="store URL to fill (default: a fresh SQLite store in a temp dir)")
    parser.add_argument("--cache-dir", type=Path, help="reuse the built SQLite store from here")
    parser.add_argument("--ablation", action="store_true",
                        help="also refit the fusion on --train-split without each evidence source")
    parser.add_argument("--train-split", default="train")
    args = parser.parse_args(argv)

    store, where = build_store(args.data_dir, args.cache_dir, args.store)
    split = read_split(args.data_dir, args.split)
    print(f"split {args.split}: {len(split.queries)} queries; store {where}", flush=True)
    seen = run_lookups(store, split)
    result = metrics(seen.rankings, split.qrels)
    result |= {"latency_p50_ms": round(statistics.median(seen.latencies), 1),
               "latency_p99_ms": round(percentile(seen.latencies, 99), 1), "queries": len(split.queries)}
    if seen.rejected:
        print(f"{seen.rejected} queries rejected as too short (scored as misses)")
    print(f"news evidence applied to {seen.news_applied} claims (they give a figure)")
    print(f"reliability of Report.score (top {DEPTH} reports per query):")
    print(fusion.reliability_markdown([s for s, _ in seen.scored], [float(y) for _, y in seen.scored]))
    for key in ("map_at_1", "map_at_5", "mrr", "p_at_1", "recall_at_20"):
        print(f"{key:>14}: {result[key]:.4f}")
    print(f"{'latency':>14}: p50 {result['latency_p50_ms']} ms, p99 {result['latency_p99_ms']} ms (in-process)")
    if args.ablation:
        print(f"\nablation (MAP@5 on {args.split}; fusion refitted on {args.train_split} each time):")
        for name, value in ablation(store, read_split(args.data_dir, args.train_split), split):
            print(f"  {value:.4f}  {name}")
    store.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
