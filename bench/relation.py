"""Claim-relation quality on any folder in FNC-1 layout, through the lookup.

    .venv/bin/python bench/relation.py --data-dir ../shared/data/relation/fnc1 --split story_dev

Indexes the bodies of the split (``<data-dir>/*bodies*.csv``; each body an
article whose title is its first sentence) into a cached SQLite store through
the ingest pipeline, looks up every headline with ``find_reports`` (the code
path of ``POST /v1/claims/lookup``, ``limit`` 50), and scores every
(headline, body) pair of the stances file: a body returned with ``score`` at
least the documented threshold (``--threshold``, default 0.5, never tuned
here) takes the report's ``stance``; otherwise it is unrelated.

Prints the official FNC-1 score (share of the maximum), macro-F1 and per-class
F1, ROC-AUC of the score for related vs unrelated, MAP over headlines, the
expected calibration error of the score for "related" and its reliability
table, and lookup latency. The last line is one JSON object.

The stances file is ``<data-dir>/*stances*<split>*.csv`` (e.g.
``train_stances_story_dev.csv``); the bodies file the one whose name shares
the most with it (``train_bodies.csv``, ``competition_test_bodies.csv``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from claimlookup import fusion
from claimlookup.lookup import MAX_LIMIT, SUMMARY_MIN_SCORE
from claimlookup.training import evaluation as ev


def files(data_dir: Path, split: str) -> tuple[Path, Path]:
    stances = sorted(p for p in data_dir.glob("*.csv") if "stances" in p.name and p.stem.endswith(split))
    if len(stances) != 1:
        raise SystemExit(f"expected one *stances*{split}.csv in {data_dir}, found {[p.name for p in stances]}")
    bodies = sorted((p for p in data_dir.glob("*.csv") if "bodies" in p.name),
                    key=lambda p: -len(set(p.stem.split("_")) & set(stances[0].stem.split("_"))))
    if not bodies:
        raise SystemExit(f"no *bodies*.csv in {data_dir}")
    return bodies[0], stances[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--split", required=True, help="the stances file's suffix, e.g. story_dev")
    parser.add_argument("--threshold", type=float, default=SUMMARY_MIN_SCORE)
    parser.add_argument("--limit", type=int, default=MAX_LIMIT)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/bench-cache"))
    parser.add_argument("--save", type=Path, default=None, help="write every judged report as JSON lines")
    parser.add_argument("--max-queries", type=int, default=None, help="only the first N headlines (a smoke run)")
    args = parser.parse_args(argv)
    bodies, stances = files(args.data_dir, args.split)
    print(f"bodies {bodies.name}, stances {stances.name}", flush=True)
    store, queries = ev.fnc_store(bodies, stances, args.cache_dir)
    queries = queries[:args.max_queries] if args.max_queries else queries
    run = ev.run_queries(store, queries, args.limit)
    if args.save:
        ev.save_run(run, args.save)
    gold, pred, scores = ev.fnc_predictions(run, queries, args.threshold)
    f1 = ev.f1_scores(gold, pred)
    related = [g != "unrelated" for g in gold]
    out = {"split": args.split, "pairs": len(gold), "headlines": len(queries), "threshold": args.threshold,
           "fnc_score": round(ev.fnc_score(gold, pred), 4), "macro_f1": round(statistics.fmean(f1.values()), 4),
           "f1": {k: round(v, 4) for k, v in f1.items()},
           "roc_auc_related": round(ev.roc_auc(scores, related), 4),
           "map": round(ev.mean_average_precision(run, queries), 4),
           "ece_related": round(ev.expected_calibration_error(scores, related), 4),
           "latency_ms_median": round(statistics.median(run.latencies_ms), 1) if run.latencies_ms else None,
           "rejected": run.rejected}
    print("reliability of the score for 'related' (every labelled pair; not returned = 0):")
    print(fusion.reliability_markdown(scores, related))
    print(f"FNC-1 score {out['fnc_score']:.1%}, macro-F1 {out['macro_f1']:.3f}, F1 {out['f1']}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
