"""Fit the lookup's news-evidence model on the judged news claims.

    .venv/bin/python -m bench.fit_news [--store FILE] [--l2 1.0]

The fitted fusion (``claimlookup/data/fusion-weights.json``, CheckThat!
train) scores how alike a report is to a claim. It cannot weigh evidence that
tweets and fact-checks never show: figures on both sides, the claim's place
missing from a whole article, an article covering every word of the claim;
and it trusts the relative features (a candidate far behind the best one is
rarely the answer) as much as a one-answer task allows, while a news claim
has many reports. This script fits what to add to the article log-odds for
those (``lookup.NEWS_FEATURES``): an L2 logistic regression with the fitted
log-odds as a fixed offset, on every judged (claim, report) pair of
``bench/data/news-claims.jsonl`` whose claim gives a figure and whose report
is among the lookup's candidates. The lookup applies the model to such claims
only (``lookup.news_applies``). Weights go to
``claimlookup/data/news-weights.json``.

``--split dev`` fits on the even claim ids and ``--split test`` on the odd
ones: with ``bench/news.py`` on the other half, that is the 2-fold
cross-validation docs/benchmarks.md reports. The shipped weights are
``--split all``; ``bench/news.py`` on either half is then in-sample.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_STORE, checked_fusion, ensure_store, load_judgements
from claimlookup import fusion, lookup
from claimlookup.model import Filters
from claimlookup.store import Store, open_store


def article_rows(candidates: lookup.CandidateSet) -> tuple[np.ndarray, np.ndarray]:
    """(news features, fitted article log-odds) of every candidate article."""
    models = checked_fusion()
    fitted = models.sentence.logits(candidates.features)
    candidates.article_features = lookup.article_features(candidates, fitted)
    _, news = lookup.news_features(candidates, fitted)
    return news, models.article.logits(candidates.article_features)


def news_pairs(store: Store, claims: dict[int, dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """(features, offsets, labels) of the judged pairs among the candidates,
    how many judged pairs were not among them, and how many claims the model
    applies to."""
    rows, offsets, labels, missing, applied = [], [], [], 0, 0
    for claim in claims.values():
        prepared = lookup.prepare_claims([claim["claim"]])[0]
        if not lookup.news_applies(prepared):
            continue  # the lookup does not apply the model to it either
        applied += 1
        candidates = lookup.candidate_sets(store, [prepared], Filters(exclude_articles=(claim["article"],)))[0]
        news, logits = article_rows(candidates)
        index = {a: k for k, a in enumerate(candidates.articles)}
        for article_id, label in claim["labels"].items():
            if article_id not in index:
                missing += 1
                continue
            rows.append(news[index[article_id]])
            offsets.append(logits[index[article_id]])
            labels.append(label)
    return np.array(rows), np.array(offsets), np.array(labels, dtype=float), missing, applied


def report(title: str, offset: np.ndarray, x: np.ndarray, y: np.ndarray, model: fusion.FusionModel) -> None:
    for name, p in (("fitted only", fusion.sigmoid(offset)), ("with news evidence",
                                                             fusion.sigmoid(offset + model.logits(x)))):
        print(f"  {title}, {name}: Brier {float(np.mean((p - y) ** 2)):.4f}, mean score of true pairs "
              f"{p[y == 1].mean():.3f}, of the others {p[y == 0].mean():.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE, help="the seeds + FA-KES bench store")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev",
                        help="judged claims to fit on (dev: even ids; test: odd ids, for the second fold of a "
                             "2-fold cross-validation; all: both, for the shipped model)")
    args = parser.parse_args(argv)

    store = open_store(ensure_store(args.store))
    claims = load_judgements(args.split)
    x, offset, y, missing, applied = news_pairs(store, claims)
    if not len(y):
        raise SystemExit("no judged pair whose claim gives a figure is among the candidates: nothing to fit")
    print(f"news claims ({args.split}): {len(claims)} claims, {len(y)} judged pairs among the candidates "
          f"({int(y.sum())} same claim), {missing} judged pairs not among them")
    model = fusion.fit_logistic(x, y, lookup.NEWS_FEATURES, l2=args.l2, offset=offset, meta={
        "fitted_on": f"bench/data/news-claims.jsonl, split {args.split!r}: {applied} claims that give a "
                     f"figure (of {len(claims)}), {len(y)} judged pairs",
        "offset": "article log-odds of the CheckThat!-fitted models (fusion-weights.json)",
        "applies_to": "claims that give a figure (lookup.news_applies)",
        "l2": args.l2, "written_by": "bench/fit_news.py"})
    fusion.NEWS_WEIGHTS_PATH.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    fusion.load_news_model.cache_clear()
    print(f"weights -> {fusion.NEWS_WEIGHTS_PATH}")
    print("log-odds added per unit of each feature (weight / scale):")
    for name, w, scale in zip(model.features, model.weights, model.scales, strict=True):
        print(f"  {w / scale:+.3f}  {name}")
    print(f"  {model.bias - float(np.sum(model.means / model.scales * model.weights)):+.3f}  (at zero features)")
    report(f"{args.split} pairs (in-sample)", offset, x, y, model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
