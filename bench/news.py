"""Quality on news: the hand-judged claim set ``bench/data/news-claims.jsonl``.

    .venv/bin/python -m bench.news [--split dev|test|all] [--store FILE]

88 claims about FA-KES articles (``bench/news_pool.py``): 48 ``sentence``
claims (a sentence of the article that gives a figure and names a place, as
pasted) and 40 ``written`` ones (a person's one-sentence summary of the
article's main claim, in their own words, as typed), each with the top 8
reports the lookup returned when the pool was built, judged by reading:
1 = reports the same claim (same incident, figures may differ), 0 = not (see
docs/benchmarks.md).
Claims with an even ``claim_id`` are the dev half (used to choose the fixed
news-evidence weights in ``claimlookup/lookup.py``), odd ones the test half
(only reported).

Every claim goes through ``find_reports`` (the endpoint's code path) on the
seeds + FA-KES bench store with its own article excluded. Prints, over the
claims with at least one judged report: MAP@5, P@1, MRR, and recall@8 (unjudged
reports count as not the same claim, as in pooled evaluations); over every
claim: the top report's score for claims that have no other report (should
be low) and a reliability table of the report scores against the judgements.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from claimlookup import fusion, lookup
from claimlookup.model import Filters
from claimlookup.store import open_store
from claimlookup.training.news import DEFAULT_STORE, ensure_store, load_judgements

DEPTH = 8


def average_precision(ranked: list[str], relevant: set[str], k: int) -> float:
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            hits += 1
            total += hits / i
    return total / min(len(relevant), k) if relevant else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--show", action="store_true", help="print every claim's ranking")
    parser.add_argument("--without-news-evidence", action="store_true",
                        help="score with the CheckThat!-fitted models alone (the ablation)")
    args = parser.parse_args(argv)
    if args.without_news_evidence:
        # every module that bound the name (the lookup package re-exports it)
        from claimlookup.lookup import reports, scoring, service

        for module in (lookup, scoring, service, reports):
            module.news_applies = lambda claim: False  # type: ignore[attr-defined]
    store = open_store(ensure_store(args.store))
    claims = load_judgements(args.split)
    ap5, p1, rr, recall, lonely_top, kinds = [], [], [], [], [], []
    scored: list[tuple[float, int]] = []
    for cid, claim in sorted(claims.items()):
        result = lookup.find_reports(store, lookup.LookupRequest(
            claim["claim"], Filters(exclude_articles=(claim["article"],)), limit=DEPTH))
        ranked = [r.article_id for r in result.reports]
        relevant = {a for a, label in claim["labels"].items() if label}
        for r in result.reports:
            if r.article_id in claim["labels"]:
                scored.append((r.score, claim["labels"][r.article_id]))
        if relevant:
            kinds.append(claim["kind"])
            ap5.append(average_precision(ranked, relevant, 5))
            p1.append(float(bool(ranked) and ranked[0] in relevant))
            rr.append(next((1 / i for i, a in enumerate(ranked, 1) if a in relevant), 0.0))
            recall.append(len(relevant & set(ranked)) / len(relevant))
        elif result.reports:
            lonely_top.append(result.reports[0].score)
        if args.show:
            print(f"[{cid}] {claim['claim'][:100]}")
            for r in result.reports:
                mark = {1: "+", 0: "-"}.get(claim["labels"].get(r.article_id), "?")
                print(f"   {mark} {r.score:.3f} {r.article_id} {r.source} {r.published} {r.title[:60]}")
    scores = np.array([s for s, _ in scored])
    labels = np.array([y for _, y in scored])
    print(f"split {args.split}: {len(claims)} claims, {len(ap5)} with a judged other report")
    print("reliability of report scores (judged pairs):")
    print(fusion.reliability_markdown(scores, labels, edges=(0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)))
    for kind in ("sentence", "written"):
        mine = [a for a, k in zip(ap5, kinds, strict=True) if k == kind]
        ones = [a for a, k in zip(p1, kinds, strict=True) if k == kind]
        if mine:
            print(f"{kind} claims: {len(mine)} with a judged other report, MAP@5 {statistics.fmean(mine):.4f}, "
                  f"P@1 {statistics.fmean(ones):.4f}")
    out = {"split": args.split, "claims": len(claims), "claims_with_reports": len(ap5),
           "map_at_5": round(statistics.fmean(ap5), 4) if ap5 else None,
           "p_at_1": round(statistics.fmean(p1), 4) if p1 else None,
           "mrr": round(statistics.fmean(rr), 4) if rr else None,
           "recall_at_8": round(statistics.fmean(recall), 4) if recall else None,
           "top_score_without_reports_median": round(statistics.median(lonely_top), 4) if lonely_top else None,
           "top_score_without_reports_over_half": round(float(np.mean(np.array(lonely_top) >= 0.5)), 4)
           if lonely_top else None}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
