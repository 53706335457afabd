"""Fit the lookup's fusion model and its term weights; report calibration.

    .venv/bin/python bench/fit_fusion.py --data-dir ../shared/data/checkthat2020 --cache-dir /tmp/ct-cache

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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from checkthat import CLAIMS_FILE, _tsv_rows, build_store, read_split  # noqa: E402

from claimlookup import fusion, lookup  # noqa: E402
from claimlookup.model import Filters  # noqa: E402

FAKES = ROOT / "seeds" / "fa-kes" / "FA-KES-Dataset.csv"
L2 = 1.0


def background_documents(data_dir: Path) -> list[str]:
    docs = [f"{row[2]} {row[1]}" for row in _tsv_rows(data_dir / CLAIMS_FILE) if len(row) >= 3]
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


def fit_models(sets: list, qrels: dict[str, set[str]], l2: float = L2,
               sentence_names: Sequence[str] = lookup.SENTENCE_FEATURES,
               article_names: Sequence[str] = lookup.ARTICLE_FEATURES, meta: dict | None = None) -> fusion.Fusion:
    """Fit the sentence model (label: the sentence's article is relevant),
    then the article model over article features built from its log-odds.
    ``*_names`` select feature subsets (the ablation drops some)."""
    s_idx = [lookup.SENTENCE_FEATURES.index(n) for n in sentence_names]
    a_idx = [lookup.ARTICLE_FEATURES.index(n) for n in article_names]
    x = np.vstack([c.features[:, s_idx] for _, c in sets])
    sentence = fusion.fit_logistic(x, sentence_labels(sets, qrels), sentence_names, l2=l2)
    xa = np.vstack([lookup.article_features(c, sentence.logits(c.features[:, s_idx]))[:, a_idx] for _, c in sets])
    article = fusion.fit_logistic(xa, article_labels(sets, qrels), article_names, l2=l2)
    return fusion.Fusion(sentence, article, dict(meta or {}))


def sentence_labels(sets: list, qrels: dict[str, set[str]]) -> np.ndarray:
    return np.concatenate([[s.ref.article_id in qrels.get(qid, ()) for s in c.sentences]
                           for qid, c in sets]).astype(float)


def article_labels(sets: list, qrels: dict[str, set[str]]) -> np.ndarray:
    return np.concatenate([[a in qrels.get(qid, ()) for a in c.articles] for qid, c in sets]).astype(float)


def scored(sets: list, models: fusion.Fusion, sentence_names: Sequence[str] = lookup.SENTENCE_FEATURES,
           article_names: Sequence[str] = lookup.ARTICLE_FEATURES) -> list:
    """Fill scores of every candidate set with ``models`` (feature subsets allowed)."""
    s_idx = [lookup.SENTENCE_FEATURES.index(n) for n in sentence_names]
    a_idx = [lookup.ARTICLE_FEATURES.index(n) for n in article_names]
    for _, c in sets:
        c.logits = models.sentence.logits(c.features[:, s_idx])
        c.scores = fusion.sigmoid(c.logits)
        c.article_features = lookup.article_features(c, c.logits)
        c.article_scores = models.article.probabilities(c.article_features[:, a_idx])
    return sets


def rankings(sets: list) -> dict[str, list[str]]:
    """Each query's candidate articles by article score (no copy folding)."""
    return {qid: [c.articles[k] for k in np.argsort(-c.article_scores, kind="stable")] for qid, c in sets}


def print_reliability(title: str, p: np.ndarray, y: np.ndarray) -> list[dict]:
    table = fusion.reliability_table(p, y)
    print(f"\n{title}\n{fusion.reliability_markdown(p, y)}")
    brier = float(np.mean((p - y) ** 2))
    print(f"Brier score {brier:.4f}; {int(y.sum())} true of {len(y)}")
    return table


def main(argv: list[str] | None = None) -> int:
    from checkthat import collect, metrics

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
        for name, w in sorted(zip(model.features, model.weights), key=lambda t: -abs(t[1])):
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
