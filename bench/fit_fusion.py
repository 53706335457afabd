"""Fit the lookup's fusion model and its term weights; report calibration.

    .venv/bin/python -m bench.fit_fusion --data-dir ../shared/data/checkthat2020 --cache-dir /tmp/ct-cache

Steps:

1. ``claimlookup/data/term-idf.json``: IDF of content stems over a fixed
   background corpus: the CheckThat! verified claims (claim + title, no
   queries, no labels) and the FA-KES articles in ``seeds/fa-kes``. The
   lookup's coverage features use it, so they do not depend on the store.
2. Index the verified claims (bench/checkthat.py's store, cached), run every
   *train* query through the lookup's candidate generation and feature code
   (``claimlookup.lookup.candidate_sets``), label each candidate sentence 1 if
   its article is a relevant claim of the query, and fit the L2 logistic
   regression (``claimlookup.fusion.fit_logistic``). Weights go to
   ``claimlookup/data/fusion-weights.json``.
3. Score the *dev* split with the new weights and print the reliability
   table (sentence level and article level) that docs/lookup.md quotes.

Only the train split is fitted on; dev is only reported.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import (
    CLAIMS_FILE,
    FAKES,
    L2,
    article_labels,
    build_store,
    collect,
    fit_models,
    metrics,
    rankings,
    read_split,
    scored,
    sentence_labels,
    tsv_rows,
)
from claimlookup import fusion


def background_documents(data_dir: Path) -> list[str]:
    docs = [f"{row[2]} {row[1]}" for row in tsv_rows(data_dir / CLAIMS_FILE) if len(row) >= 3]
    with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
        docs += [f"{r['article_title']} {r['article_content']}" for r in csv.DictReader(f)]
    return docs


def write_term_weights(data_dir: Path) -> fusion.TermWeights:
    docs = background_documents(data_dir)
    weights = fusion.TermWeights.from_counts([set(fusion.content_stems(d)) for d in docs])
    data = weights.to_json() | {"documents": len(docs),
                                "corpus": "CheckThat! 2020 verified claims (claim + title) and FA-KES articles"}
    fusion.TermWeights.PATH.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                                       encoding="utf-8")
    fusion.TermWeights.load.cache_clear()
    print(f"term weights: {len(data['idf'])} stems from {len(docs)} documents -> {fusion.TermWeights.PATH}")
    return weights


def print_reliability(title: str, p: np.ndarray, y: np.ndarray) -> list[dict]:
    table = fusion.reliability_table(p, y)
    print(f"\n{title}\n{fusion.reliability_markdown(p, y)}")
    brier = float(np.mean((p - y) ** 2))
    print(f"Brier score {brier:.4f}; {int(y.sum())} true of {len(y)}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, help="reuse the built SQLite store from here")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--report-split", default="dev")
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--keep-idf", action="store_true", help="do not rebuild term-idf.json")
    args = parser.parse_args(argv)

    if not args.keep_idf:
        write_term_weights(args.data_dir)
    store, _ = build_store(args.data_dir, args.cache_dir, None)
    train = read_split(args.data_dir, args.train_split)
    started = time.perf_counter()
    train_sets = collect(store, train)
    print(f"train: {len(train_sets)} queries, {sum(len(c.sentences) for _, c in train_sets)} candidate "
          f"sentences, {sum(len(c.articles) for _, c in train_sets)} candidate articles "
          f"({time.perf_counter() - started:.0f} s)")
    models = fit_models(train_sets, train.qrels, args.l2, meta={
        "fitted_on": f"CheckThat! 2020 task 2, split {args.train_split!r} ({len(train_sets)} queries)",
        "sentence_unit": "candidate sentence; label 1 if its article is a relevant verified claim",
        "article_unit": "candidate article; label 1 if it is a relevant verified claim",
        "l2": args.l2, "written_by": "bench/fit_fusion.py"})
    fusion.WEIGHTS_PATH.write_text(json.dumps(models.to_json(), indent=1) + "\n", encoding="utf-8")
    fusion.load_fusion.cache_clear()
    print(f"weights -> {fusion.WEIGHTS_PATH}")
    for title, model in (("sentence model", models.sentence), ("article model", models.article)):
        print(f"{title} (weights on standardised features):")
        for name, w in sorted(zip(model.features, model.weights, strict=True), key=lambda t: -abs(t[1])):
            print(f"  {w:+.3f}  {name}")

    dev = read_split(args.data_dir, args.report_split)
    dev_sets = scored(collect(store, dev), models)
    print(f"\n{args.report_split} (candidate ranking, no copy folding): {metrics(rankings(dev_sets), dev.qrels)}")
    print_reliability(f"Reliability, {args.report_split} split, article level (Report.score)",
                      np.concatenate([c.article_scores for _, c in dev_sets]), article_labels(dev_sets, dev.qrels))
    print_reliability(f"Reliability, {args.report_split} split, sentence level (ReportSentence.score)",
                      np.concatenate([c.scores for _, c in dev_sets]), sentence_labels(dev_sets, dev.qrels))
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
